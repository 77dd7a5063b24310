"""Scripe's suggestions in the sandbox: posts in status `suggested` (contract §8.5, "AI
suggestion not yet acted on"), a few per project from the start (`Config.suggestions_per_
project`) and more through the control surface:

    POST /_sandbox/suggestions  {"projectId": "proj_…", "count": 2}
                                 or {"projectId": …, "title": …, "content": …}

Each is listed by `GET /v1/posts?status=suggested` and announced with `post.created`.
"""

from __future__ import annotations

from scripe_integration.sandbox.state import Post, SandboxState

# Deterministic texts, cycled through; {project} is the project's name.
TOPICS = [
    (
        "Three lessons from our last launch",
        "We shipped late, learned fast and kept our customers. Here are three lessons "
        "{project} would tell anyone planning a launch this quarter.",
    ),
    (
        "What our customers ask most",
        "Every week the same question reaches {project}: how do we start? A short answer, "
        "and the long one.",
    ),
    (
        "A myth worth retiring",
        '"Posting daily is the only way to grow." {project} grew by posting less, and '
        "better. What changed.",
    ),
    (
        "Behind the scenes",
        "A look at how {project} plans a week of posts in one hour on Monday morning.",
    ),
]


def add_suggestions(
    state: SandboxState, project_id: str, *, count: int = 1, title: str = "", content: str = ""
) -> list[Post]:
    """Writes `count` suggested posts for the project (or one with the given text)."""
    made = []
    with state.lock:
        project = state.projects[project_id]
        for _ in range(count):
            taken = sum(1 for p in state.posts.values() if p.status == "suggested")
            topic_title, topic_text = TOPICS[taken % len(TOPICS)]
            now = state.clock()
            post = Post(
                id=state.short_id("post_"),
                project_id=project_id,
                title=title or topic_title,
                content=content or topic_text.format(project=project.name),
                status="suggested",
                content_type="PERSONAL"
                if project.type == "PERSONAL_BRAND"
                else "BUSINESS_EXTERNAL",
                created=now,
                updated=now,
            )
            state.posts[post.id] = post
            state.emit("post.created", post.as_json(), project_id)
            made.append(post)
    return made


def seed_suggestions(state: SandboxState) -> None:
    """A fresh sandbox's suggestions: `suggestions_per_project` for every project."""
    for project_id in list(state.projects):
        add_suggestions(state, project_id, count=state.config.suggestions_per_project)


def control(state: SandboxState, data: object) -> tuple[int, dict]:
    """`POST /_sandbox/suggestions`: (status, body)."""
    if not isinstance(data, dict):
        return 400, {"error": "body must be a JSON object"}
    project_id = data.get("projectId")
    if project_id not in state.projects:
        return 404, {"error": f"no such project {project_id}"}
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 50:
        return 400, {"error": "count must be a whole number from 1 to 50"}
    title, content = data.get("title", ""), data.get("content", "")
    if not isinstance(title, str) or not isinstance(content, str):
        return 400, {"error": "title and content must be strings"}
    posts = add_suggestions(state, project_id, count=count, title=title, content=content)
    return 201, {"data": [post.as_json() for post in posts]}
