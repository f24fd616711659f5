package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

type CommentIDParam struct {
	CommentID int64 `path:"comment_id" doc:"Comment id."`
}

type listCommentsInput struct {
	TaskIDParam
	PageParams
}

type commentsOutput struct {
	Link     string `header:"Link" doc:"The next page, when there is one."`
	EventSeq int64  `header:"X-Event-Seq" doc:"The project's newest event seq as of the same read as the body; open the project's socket with since set to it."`
	Body     []taskwire.Comment
}

func (s *Server) listComments(ctx context.Context, in *listCommentsInput) (*commentsOutput, error) {
	page, err := in.page()
	if err != nil {
		return nil, err
	}
	cs, seq, err := s.svc.Comments(ctx, userFrom(ctx), in.TaskID, page)
	if err != nil {
		return nil, err
	}
	cs, link := trim(requestFrom(ctx), in.Limit, cs, func(c taskwire.Comment) int64 { return c.ID })
	return &commentsOutput{Link: link, EventSeq: seq, Body: cs}, nil
}

// commentBody is the body of a create and of an edit.
type commentBody struct {
	Body string   `json:"body" minLength:"1" maxLength:"10000" doc:"1 to 10,000 characters, kept as sent (not trimmed). @username names a project member (see mentions)."`
	_    struct{} `additionalProperties:"true"`
}

type createCommentInput struct {
	TaskIDParam
	IdempotencyHeader
	Body commentBody
}

type commentOutput struct {
	Body taskwire.Comment
}

func (s *Server) createComment(ctx context.Context, in *createCommentInput) (*commentOutput, error) {
	scope := "create_comment:" + strconv.FormatInt(in.TaskID, 10)
	c, err := s.svc.CreateComment(ctx, userFrom(ctx), in.TaskID, in.Body.Body, in.key(ctx, scope, in.Body))
	if err != nil {
		return nil, err
	}
	return &commentOutput{Body: c}, nil
}

type updateCommentInput struct {
	CommentIDParam
	Body commentBody
}

func (s *Server) updateComment(ctx context.Context, in *updateCommentInput) (*commentOutput, error) {
	c, err := s.svc.UpdateComment(ctx, userFrom(ctx), in.CommentID, in.Body.Body)
	if err != nil {
		return nil, err
	}
	return &commentOutput{Body: c}, nil
}

func (s *Server) deleteComment(ctx context.Context, in *CommentIDParam) (*struct{}, error) {
	return nil, s.svc.DeleteComment(ctx, userFrom(ctx), in.CommentID)
}

// mentionsDoc is how the routes that write a comment describe mentions.
const mentionsDoc = "`mentions` lists the ids of the project's members named as `@username` in the body " +
	"(case-insensitive; not inside `code`); each one mentioned, other than the author, is notified (`mentioned`) and emailed."

// commentRoutes registers the comment routes.
func (s *Server) commentRoutes(api huma.API) {
	errs := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity}
	register(api, huma.Operation{
		OperationID: "list_comments_api_v1_tasks__task_id__comments_get", Method: http.MethodGet,
		Path: "/api/v1/tasks/{task_id}/comments", Summary: "List Comments", Tags: []string{"comments"},
		Description: "The task's comments, oldest first. " + pagingDoc,
		Security:    secured, Errors: errs,
	}, s.listComments)
	register(api, huma.Operation{
		OperationID: "create_comment_api_v1_tasks__task_id__comments_post", Method: http.MethodPost,
		Path: "/api/v1/tasks/{task_id}/comments", Summary: "Create Comment", Tags: []string{"comments"},
		Description: "Comment on a task (any member). Emits comment_added. " + mentionsDoc +
			" The task's assignee, unless they wrote it or are mentioned, is notified (`task_commented`). " + idempotencyDoc,
		Security: secured, DefaultStatus: http.StatusCreated, Errors: errs,
	}, s.createComment)
	register(api, huma.Operation{
		OperationID: "update_comment_api_v1_comments__comment_id__patch", Method: http.MethodPatch,
		Path: "/api/v1/comments/{comment_id}", Summary: "Edit Comment", Tags: []string{"comments"},
		Description: "Replace a comment's body (its author only). Emits comment_updated unless nothing changed. " + mentionsDoc +
			" Only members the edit newly mentions are notified.",
		Security: secured, Errors: errs,
	}, s.updateComment)
	register(api, huma.Operation{
		OperationID: "delete_comment_api_v1_comments__comment_id__delete", Method: http.MethodDelete,
		Path: "/api/v1/comments/{comment_id}", Summary: "Delete Comment", Tags: []string{"comments"},
		Description: "Delete a comment (its author or the project's owner). Emits comment_deleted.",
		Security:    secured, DefaultStatus: http.StatusNoContent, Errors: errs,
	}, s.deleteComment)
}
