"""See kofu.juki."""
