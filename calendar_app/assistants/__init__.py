"""The MCP server for AI assistants (#27): the official `mcp` SDK's streamable HTTP transport
at `/mcp/`, authenticated with the REST API's personal access tokens. `endpoint` hands each
HTTP request to the SDK; `tools` are the calls an assistant may make, each one the same
service, selector or access function the pages and the REST API use.

Not named `mcp`: that would shadow the SDK for every module here."""
