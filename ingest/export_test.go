package ingest

// SetTestWindows makes the cameras of p started after it take their windows
// from ch (true opens, false closes) instead of their schedules.
func SetTestWindows(p *Pull, ch chan bool) { p.testWindows = ch }
