package telegramtest

import (
	"context"
	"strings"
	"time"
)

// sendDocument accepts an uploaded document (multipart part "document")
// or a file_id / URL string, with an optional caption and markup. The
// uploaded content is kept in Message.FileData.
func (s *Server) sendDocument(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	up, uploaded := rq.uploads["document"]
	if !uploaded && rq.str("document") == "" {
		return nil, badRequest("there is no document in the request")
	}
	caption, parseMode := rq.str("caption"), rq.str("parse_mode")
	plain, ents, aerr := s.checkText(rq, "caption", caption, parseMode, 1024, true)
	if aerr != nil {
		return nil, aerr
	}
	mk, aerr := s.parseMarkup(rq, false)
	if aerr != nil {
		return nil, aerr
	}
	thread, _, aerr := rq.optInt("message_thread_id")
	if aerr != nil {
		return nil, aerr
	}
	replyTo, allowMissing, aerr := replyTarget(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chatLocked(chatID)
	if aerr := s.checkThreadLocked(cs, int(thread)); aerr != nil {
		return nil, aerr
	}
	if replyTo != 0 && s.renderRefLocked(cs, replyTo) == nil {
		if !allowMissing {
			return nil, badRequest("message to be replied not found")
		}
		replyTo = 0
	}
	doc := s.newDocumentLocked()
	if uploaded {
		doc.FileName, doc.MimeType, doc.FileSize = up.name, mimeOf(up.name), len(up.data)
	}
	b := &botMsg{
		m: Message{
			ChatID: chatID, ThreadID: int(thread), MessageID: cs.newMsgID(),
			Text: caption, ParseMode: parseMode, Buttons: mk.buttons, ReplyTo: replyTo,
			PlainText: plain, Keyboard: mk.keyboard, RemoveKeyboard: mk.remove,
			Media: "document", FileID: doc.FileID, FileName: up.name, FileData: up.data,
		},
		entities: ents,
		date:     time.Now().Unix(),
		markup:   mk.inline,
		media:    media{document: doc},
	}
	s.addBotMsgLocked(cs, b, mk)
	return s.renderBotLocked(cs, b, true), nil
}

func mimeOf(name string) string {
	switch {
	case strings.HasSuffix(name, ".ics"):
		return "text/calendar"
	case strings.HasSuffix(name, ".pdf"):
		return "application/pdf"
	}
	return "application/octet-stream"
}
