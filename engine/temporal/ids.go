package temporal

import "github.com/google/uuid"

func newInstanceID() string { return uuid.NewString() }
