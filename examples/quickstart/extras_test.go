package main

// haveSourcesPage says whether the dashboard has its sources page yet.
const haveSourcesPage = false
