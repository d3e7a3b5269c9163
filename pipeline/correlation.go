package pipeline

import "crypto/rand"

// NewCorrelationID names one intake item's journey through the stages: 26
// base32 characters ([A-Z2-7]) carrying 128 random bits, unique across
// workers without coordination. It is made for every item, so it is cheap
// (crypto/rand.Text, about a tenth of a shortuuid's cost).
func NewCorrelationID() string { return rand.Text() }
