package main

import "testing"

// haveSourcesPage says whether the dashboard has its sources page yet.
const haveSourcesPage = false

func checkSources(*testing.T, func(string) string, func(string), string, string, string) {}
