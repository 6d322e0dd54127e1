package telegram

import (
	"context"
	"encoding/json"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/passerelle-bot/passerelle/bot"
)

// callReply makes the call of a reply: a multipart upload when it carries
// a file (sendDocument), else an ordinary call.
func (c *Client) callReply(ctx context.Context, method string, p tgbotapi.Params, f *bot.File) (json.RawMessage, error) {
	if f == nil {
		return c.call(ctx, method, p)
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cc := &callClient{ctx: cctx, base: c.http, token: c.token, secrets: c.secrets}
	api := *c.api
	api.Client = cc
	resp, err := api.UploadFiles(method, p, []tgbotapi.RequestFile{{Name: "document", Data: tgbotapi.FileBytes{Name: f.Name, Bytes: f.Data}}})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("telegram: %s: %w", method, ctx.Err())
		}
		return nil, c.convert(method, err, cc.status)
	}
	return resp.Result, nil
}

// documentReply is buildReply for a reply carrying a file: sendDocument,
// the text as its caption.
func documentReply(r bot.Reply) (string, tgbotapi.Params, error) {
	p := tgbotapi.Params{}
	if r.Text != "" {
		p["caption"] = r.Text
		p["parse_mode"] = tgbotapi.ModeHTML
	}
	p.AddNonZero("message_thread_id", r.ThreadID)
	if kb := keyboard(r.Buttons); kb != nil {
		if err := p.AddInterface("reply_markup", kb); err != nil {
			return "", nil, err
		}
	}
	if r.File.Name == "" || len(r.File.Data) == 0 {
		return "", nil, fmt.Errorf("document without name or data")
	}
	return "sendDocument", p, nil
}
