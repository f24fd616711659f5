package notify

import (
	"embed"
	htmltemplate "html/template"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/taskwire/taskwire"
)

//go:embed templates
var templates embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.ParseFS(templates, "templates/*.txt"))
	htmlTemplates = htmltemplate.Must(htmltemplate.ParseFS(templates, "templates/*.html"))
)

// view is what the templates see.
type view struct {
	taskwire.Email
	Link string
}

// render builds the message for an email; baseURL prefixes its link.
func render(e taskwire.Email, baseURL, messageID string) (Message, error) {
	v := view{Email: e, Link: link(e, baseURL)}
	var subject string
	switch e.Kind {
	case taskwire.NotifyTaskAssigned:
		subject = e.ActorUsername + " assigned you \u201c" + e.TaskTitle + "\u201d in " + e.ProjectName
	case taskwire.NotifyTaskDueSoon:
		subject = "\u201c" + e.TaskTitle + "\u201d in " + e.ProjectName + " is due " + e.DueAt.UTC().Format("Mon 2 Jan 15:04 UTC")
	case taskwire.NotifyMentioned:
		subject = e.ActorUsername + " mentioned you on \u201c" + e.TaskTitle + "\u201d in " + e.ProjectName
	case taskwire.EmailInvitation:
		subject = e.ActorUsername + " invited you to " + e.ProjectName
	default:
		subject = e.ActorUsername + " added you to " + e.ProjectName
	}
	var text, html strings.Builder
	if err := textTemplates.ExecuteTemplate(&text, string(e.Kind)+".txt", v); err != nil {
		return Message{}, err
	}
	if err := htmlTemplates.ExecuteTemplate(&html, string(e.Kind)+".html", v); err != nil {
		return Message{}, err
	}
	return Message{
		To: e.To, ToName: e.ToName, Subject: "[Taskwire] " + oneLine(subject),
		Text: text.String(), HTML: html.String(), MessageID: messageID,
	}, nil
}

// link points at the project, and at the task for an assignment or a
// mention; an invitation's at the web app's page that accepts it.
func link(e taskwire.Email, baseURL string) string {
	if e.Kind == taskwire.EmailInvitation {
		return strings.TrimRight(baseURL, "/") + "/app/invite/" + url.PathEscape(e.Token)
	}
	l := strings.TrimRight(baseURL, "/") + "/projects/" + strconv.FormatInt(e.ProjectID, 10)
	if e.TaskID != 0 {
		l += "/tasks/" + strconv.FormatInt(e.TaskID, 10)
	}
	return l
}
