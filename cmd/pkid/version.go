package main

// version is pkid's own version.
const version = "0.1.0"
