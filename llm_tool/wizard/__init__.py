"""The Training Studio: numbered menus and a step-by-step wizard over the same core as the commands."""
