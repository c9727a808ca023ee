"""The city office's web app (窓口): staff screens over the city's services."""
