"""The ideas board (#26): notes without a date, the team's and Scripe's, planned as posts
through the planning services when their time comes."""
