package metrics

import (
	"context"
	"testing"
	"time"
)

type depthIntake struct{}

func (depthIntake) Depth(context.Context) (int, int, time.Time, error) { return 1, 2, time.Time{}, nil }

func TestDepthOf(t *testing.T) {
	if DepthOf(depthIntake{}) == nil {
		t.Error("an intake with Depth has no Depther")
	}
	if d := DepthOf(struct{}{}); d != nil {
		t.Errorf("an intake without Depth gives %v, want a nil interface", d)
	}
}
