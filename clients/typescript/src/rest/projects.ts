import { intHeader, type HttpRequest } from '../http.js';
import type {
  CreateProjectInput,
  LabelCount,
  Member,
  MessageResponse,
  PresenceEntry,
  Project,
  ProjectListQuery,
  ProjectWithMembers,
  UpdateProjectInput,
} from '../types.js';
import { keyHeader, list, type CreateOptions, type RestContext } from './context.js';
import { nextOf, paginate } from './paginate.js';

/** Who to add to a project: by id, username or email. */
export type MemberRef = { userId: number } | { username: string } | { email: string };

export interface ProjectDetails {
  project: Project;
  members: Member[];
  /** X-Event-Seq: the body reflects exactly the events up to this seq. */
  seq: number;
}

export interface ProjectPage {
  projects: Project[];
  /** The next page's URL from the Link header, when there is one (`iterate` follows it for you). */
  next?: string;
}

const base = '/api/v1/projects';

export function projectsApi(ctx: RestContext) {
  return {
    /** `GET /api/v1/projects/`: the caller's projects (owned or joined), by id. */
    async list(query?: ProjectListQuery): Promise<ProjectPage> {
      const res = await ctx.http.request<Project[] | null>({ method: 'GET', path: `${base}/`, query: { ...query }, retry: true });
      return { projects: list(res.body), ...nextOf(res) };
    },

    /** Every project of the caller, page by page (`limit` per request). */
    iterate(opts?: { limit?: number }): AsyncGenerator<Project, void, undefined> {
      const first: HttpRequest = { method: 'GET', path: `${base}/`, query: { limit: opts?.limit ?? 100 }, retry: true };
      return paginate(ctx, first, (res) => list(res.body as Project[] | null));
    },

    /** `POST /api/v1/projects/`: 201; the caller owns it. Sends an Idempotency-Key and retries safely. */
    async create(input: CreateProjectInput, opts?: CreateOptions): Promise<Project> {
      const res = await ctx.http.request<Project>({
        method: 'POST',
        path: `${base}/`,
        json: input,
        headers: keyHeader(ctx, opts),
        retry: true,
      });
      return res.body;
    },

    /** `GET /api/v1/projects/{id}` with its members and X-Event-Seq. 403 for a non-member. */
    async get(projectId: number): Promise<ProjectDetails> {
      const res = await ctx.http.request<ProjectWithMembers>({ method: 'GET', path: `${base}/${projectId}`, retry: true });
      const { members, ...project } = res.body;
      return { project, members: list(members), seq: intHeader(res, 'X-Event-Seq') };
    },

    /** `PATCH /api/v1/projects/{id}` (owner only). */
    async update(projectId: number, patch: UpdateProjectInput): Promise<Project> {
      return (await ctx.http.request<Project>({ method: 'PATCH', path: `${base}/${projectId}`, json: patch })).body;
    },

    /** `DELETE /api/v1/projects/{id}` (owner only): 204. */
    async delete(projectId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'DELETE', path: `${base}/${projectId}` });
    },

    /** `POST /api/v1/projects/{id}/members` (owner only): by user id, username or email. */
    async addMember(projectId: number, who: MemberRef, opts?: CreateOptions): Promise<MessageResponse> {
      const json = 'userId' in who ? { user_id: who.userId } : who;
      const res = await ctx.http.request<MessageResponse>({
        method: 'POST',
        path: `${base}/${projectId}/members`,
        json,
        headers: keyHeader(ctx, opts),
        retry: true,
      });
      return res.body;
    },

    /** `DELETE /api/v1/projects/{id}/members/{userId}`: the owner removes a member, or a member leaves. */
    async removeMember(projectId: number, userId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'DELETE', path: `${base}/${projectId}/members/${userId}` });
    },

    /** `GET /api/v1/projects/{id}/presence`: members with an open project socket now. */
    async presence(projectId: number): Promise<PresenceEntry[]> {
      const res = await ctx.http.request<PresenceEntry[] | null>({ method: 'GET', path: `${base}/${projectId}/presence`, retry: true });
      return list(res.body);
    },

    /** `GET /api/v1/projects/{id}/labels`: the labels on the project's tasks with their counts, most used first. */
    async labels(projectId: number): Promise<LabelCount[]> {
      const res = await ctx.http.request<LabelCount[] | null>({ method: 'GET', path: `${base}/${projectId}/labels`, retry: true });
      return list(res.body);
    },
  };
}

export type ProjectsApi = ReturnType<typeof projectsApi>;
