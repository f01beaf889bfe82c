module github.com/cloudbutton/cloudbutton

go 1.26
