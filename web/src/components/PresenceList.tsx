import type { PresenceEntry } from '@taskwire/client';

export function PresenceList(props: { presence: PresenceEntry[]; userId: number }) {
  return (
    <section class="side-section" aria-labelledby="presence-heading">
      <h2 id="presence-heading">Online now</h2>
      <ul class="presence-list" data-testid="presence-list">
        {props.presence.length === 0 && <li class="empty">Nobody else.</li>}
        {props.presence.map((p) => (
          <li key={p.user_id} data-testid={`presence-user-${p.user_id}`}>
            <span class="dot online" aria-hidden="true" />
            {p.username}
            {p.user_id === props.userId && <span class="muted"> (you)</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
