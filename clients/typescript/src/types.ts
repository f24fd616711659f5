/**
 * Request and response types of the REST API, taken from the generated
 * `openapi.ts` (run `npm run gen` after openapi.json changes).
 */
import type { components, operations } from './openapi.js';

type Schemas = components['schemas'];

export type User = Schemas['User'];
export type UserRef = Schemas['UserRef'];
export type Project = Schemas['Project'];
export type ProjectWithMembers = Schemas['ProjectWithMembers'];
export type Member = Schemas['Member'];
export type Task = Schemas['Task'];
export type Comment = Schemas['Comment'];
export type Invitation = Schemas['Invitation'];
export type PresenceEntry = Schemas['PresenceEntry'];
export type LabelCount = Schemas['LabelCount'];
export type NotificationSettings = Schemas['NotificationSettings'];
/** An API token as listed: never its secret. */
export type ApiToken = Schemas['APIToken'];
/** An API token as created: with its secret, `token`, shown this once. */
export type CreatedApiToken = Schemas['CreatedAPIToken'];
export type ApiError = Schemas['ApiError'];
/** An event as the REST log returns it (`data` untyped; see events.ts for the typed union). */
export type LogEvent = Schemas['Event'];
export type RawNotification = Schemas['Notification'];
export type Webhook = Schemas['Webhook'];
/** A webhook as created: with its secret, shown this once. */
export type CreatedWebhook = Schemas['CreatedWebhook'];
export type WebhookDelivery = Schemas['WebhookDelivery'];

export type SignupInput = Schemas['SignupInputBody'];
export type CreateProjectInput = Schemas['CreateProjectInputBody'];
export type UpdateProjectInput = Schemas['UpdateProjectInputBody'];
export type CreateTaskInput = Schemas['CreateTaskInputBody'];
export type UpdateTaskInput = Schemas['UpdateTaskInputBody'];
/** The body of a comment's create and edit: `{body}`. */
export type CommentInput = Schemas['CommentBody'];
export type PutSettingsInput = Schemas['PutSettingsInputBody'];
export type AddMemberInput = Schemas['AddMemberInputBody'];
/** `{name, expires_at?}`. */
export type ApiTokenInput = Schemas['ApiTokenBody'];
export type CreateWebhookInput = Schemas['CreateWebhookInputBody'];
export type UpdateWebhookInput = Schemas['UpdateWebhookInputBody'];

export type TokenResponse = Schemas['TokenOutputBody'];
export type MessageResponse = Schemas['MessageOutputBody'];
export type UpdatedResponse = Schemas['UpdatedOutputBody'];
export type StatusResponse = Schemas['StatusOutputBody'];
export type ReadyResponse = Schemas['ReadyOutputBody'];

export type TaskStatus = Schemas['UpdateStatusInputBody']['status'];

/** The login form's fields (OAuth2 password flow). */
export type LoginInput = NonNullable<
  operations['login_api_v1_auth_login_post']['requestBody']
>['content']['application/x-www-form-urlencoded'];

type QueryOf<Op extends { parameters: { query?: unknown } }> = NonNullable<Op['parameters']['query']>;

export type TaskListQuery = QueryOf<operations['get_tasks_api_v1_projects__project_id__tasks_get']>;
export type CommentListQuery = QueryOf<operations['list_comments_api_v1_tasks__task_id__comments_get']>;
export type ProjectListQuery = QueryOf<operations['get_user_projects_api_v1_projects__get']>;
export type EventListQuery = QueryOf<operations['list_events_api_v1_projects__project_id__events_get']>;
export type NotificationListQuery = QueryOf<operations['list_notifications_api_v1_notifications_get']>;
export type LookupQuery = QueryOf<operations['lookup_user_api_v1_users_lookup_get']>;
