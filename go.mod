module github.com/attriqs/calltrack

go 1.26
