package delivery_test

import (
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/delivery"
)

// The webhook channel sends events as published, so its workers skip decoding them.
var _ delivery.RawSender = (*webhook.Channel)(nil)
