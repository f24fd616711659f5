import type { SubscriptionState } from '@taskwire/client';
import { useSession } from '../context';
import { useOnline } from '../hooks/useOnline';

export type Connection = 'live' | 'reconnecting' | 'offline';

/**
 * One word for the page's sockets (the inbox, and the board when one is
 * open): offline when the browser is, or when a socket gave up retrying;
 * live when every socket is; reconnecting otherwise (also while the first
 * connection is being made).
 */
export function overall(online: boolean, states: SubscriptionState[]): Connection {
  if (!online) return 'offline';
  const open = states.filter((s) => s !== 'closed' && s !== 'revoked');
  if (open.includes('offline')) return 'offline';
  return open.every((s) => s === 'live') ? 'live' : 'reconnecting';
}

const text: Record<Connection, string> = { live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };

export function ConnectionStatus() {
  const { inbox, board } = useSession();
  const online = useOnline();
  const states = board ? [inbox.state, board.state] : [inbox.state];
  const state = overall(online, states);
  const connecting = state === 'reconnecting' && states.every((s) => s === 'connecting' || s === 'live');
  const retry = () => {
    inbox.retry();
    board?.retry();
  };
  return (
    <div class="connection">
      <span class={`connection-status ${state}`} data-testid="connection-status" data-state={state} role="status">
        <span class="dot" aria-hidden="true" />
        {connecting ? 'Connecting…' : text[state]}
      </span>
      {state === 'offline' && online && (
        <button type="button" class="link-button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}
