package engine

import (
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/report"
)

// checkFile builds the plan of c, as the entry points do, and checks path with it.
func checkFile(path string, c plan.Choices) (*report.Report, error) {
	p, err := plan.New(c)
	if err != nil {
		return nil, err
	}
	return Check(path, p)
}
