import type { Invitation, Project } from '../types.js';
import { list, type RestContext } from './context.js';

export function invitationsApi(ctx: RestContext) {
  const path = (projectId: number) => `/api/v1/projects/${projectId}/invitations`;
  return {
    /**
     * `POST /api/v1/projects/{id}/invitations`: 201 (the owner only). Emails
     * the address a link to `/app/invite/<token>`; a new invitation to the
     * same address replaces its pending one. 409 when the address is a
     * member's, 422 for an address signup would refuse.
     */
    async create(projectId: number, email: string): Promise<Invitation> {
      const res = await ctx.http.request<Invitation>({ method: 'POST', path: path(projectId), json: { email } });
      return res.body;
    },

    /** `GET /api/v1/projects/{id}/invitations`: pending, expired and accepted, oldest first (the owner only). */
    async list(projectId: number): Promise<Invitation[]> {
      const res = await ctx.http.request<Invitation[] | null>({ method: 'GET', path: path(projectId), retry: true });
      return list(res.body);
    },

    /** `DELETE /api/v1/invitations/{id}`: 204; the link stops working (the owner only). */
    async revoke(invitationId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'DELETE', path: `/api/v1/invitations/${invitationId}` });
    },

    /**
     * `POST /api/v1/invitations/accept`: joins the invitation's project and
     * returns it. 403 (`isForbidden`) when the caller's email is not the
     * invited one; 410 (`isGone`) when the invitation is used, expired,
     * revoked or unknown.
     */
    async accept(token: string): Promise<Project> {
      const res = await ctx.http.request<Project>({ method: 'POST', path: '/api/v1/invitations/accept', json: { token } });
      return res.body;
    },
  };
}

export type InvitationsApi = ReturnType<typeof invitationsApi>;
