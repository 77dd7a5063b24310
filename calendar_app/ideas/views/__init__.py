"""The ideas board's pages: the board and list, an idea's page, the calendar's panel."""
