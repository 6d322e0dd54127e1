package bot

// Mux exposes the routes to tests, which add handlers that panic or block.
func (b *Bot) Mux() *Mux { return b.mux }
