"""The distributed deployment as OS processes on one machine."""
