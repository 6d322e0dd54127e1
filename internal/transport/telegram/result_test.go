package telegram

import (
	"errors"
	"fmt"
	"testing"
)

// TestSendResult classifies each kind of answer for the metrics.
func TestSendResult(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ResultOK},
		{&APIError{Code: 429}, ResultFlood},
		{fmt.Errorf("wrapped: %w", &APIError{Code: 403}), ResultBlocked},
		{&APIError{Code: 400}, ResultRejected},
		{&APIError{Code: 502}, ResultServer},
		{&serverError{status: 503}, ResultServer},
		{errors.New("dial tcp: connection refused"), ResultNetwork},
	}
	for _, tt := range tests {
		if got := sendResult(tt.err); got != tt.want {
			t.Errorf("sendResult(%v) = %q; want %q", tt.err, got, tt.want)
		}
	}
}
