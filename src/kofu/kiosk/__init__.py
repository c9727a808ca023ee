"""The kiosk: the store machine as a web page and a command."""
