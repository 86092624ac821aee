package web

// chart is the spend page's bar chart of the last 30 days, drawn on the server as SVG:
// spent and still-reserved cents per day against the daily cap.
type chart struct {
	Width, Height int
	Bars          []bar
	CapY          float64 // the cap line's y
	Ticks         []tick  // y axis
	Labels        []tick  // x axis
	PlotLeft      int
	PlotBottom    int
	PlotRight     int
}

type bar struct {
	X, W                 float64
	SpentY, SpentH       float64
	ReservedY, ReservedH float64
	Title                string
}

type tick struct {
	X, Y  float64
	Label string
}

const (
	chartW, chartH            = 760, 260
	chartLeft, chartRight     = 64, 12
	chartTop, chartBottomEdge = 14, 28
)

func spendChart(sp spendJSON) chart {
	c := chart{Width: chartW, Height: chartH, PlotLeft: chartLeft, PlotBottom: chartH - chartBottomEdge, PlotRight: chartW - chartRight}
	top := sp.CapCents
	for _, d := range sp.Days {
		top = max(top, d.SpentCents+d.ReservedCents)
	}
	top = niceCeil(max(top, 100))
	plotH := float64(c.PlotBottom - chartTop)
	y := func(cents int64) float64 { return float64(c.PlotBottom) - float64(cents)/float64(top)*plotH }
	n := len(sp.Days)
	if n == 0 {
		return c
	}
	slot := float64(c.PlotRight-c.PlotLeft) / float64(n)
	for i, d := range sp.Days {
		x := float64(c.PlotLeft) + float64(i)*slot
		b := bar{X: x + slot*0.15, W: slot * 0.7}
		b.SpentY = y(d.SpentCents)
		b.SpentH = float64(c.PlotBottom) - b.SpentY
		b.ReservedY = y(d.SpentCents + d.ReservedCents)
		b.ReservedH = b.SpentY - b.ReservedY
		b.Title = d.Day + ": " + dollars(d.SpentCents) + " spent"
		if d.ReservedCents > 0 {
			b.Title += ", " + dollars(d.ReservedCents) + " reserved"
		}
		c.Bars = append(c.Bars, b)
		if i%5 == 0 || i == n-1 {
			c.Labels = append(c.Labels, tick{X: x + slot/2, Y: float64(c.PlotBottom) + 18, Label: d.Day[5:]})
		}
	}
	c.CapY = y(sp.CapCents)
	for i := 0; i <= 4; i++ {
		v := top * int64(i) / 4
		c.Ticks = append(c.Ticks, tick{X: float64(c.PlotLeft) - 8, Y: y(v), Label: axisDollars(v)})
	}
	return c
}

// niceCeil rounds cents up to a round number of dollars for the axis: 1, 2 or 5 times a
// power of ten.
func niceCeil(cents int64) int64 {
	step := int64(100)
	for {
		for _, m := range []int64{1, 2, 5} {
			if step*m >= cents {
				return step * m
			}
		}
		step *= 10
	}
}

// axisDollars is "$25" for whole dollars, "$0.50" otherwise.
func axisDollars(cents int64) string {
	if cents%100 == 0 {
		return "$" + num(cents/100)
	}
	return dollars(cents)
}
