package punchout

import "github.com/cxmlgate/punchout/internal/id"

func newExchangeID() string { return id.New("xout") }
