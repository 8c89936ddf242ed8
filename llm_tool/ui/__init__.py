"""Terminal output (Rich): the console, tables, panels and progress displays. The only place Rich is built."""
