/**
 * The signed-in user's notifications: the newest from REST, then the
 * notification socket from that read's seq (each one exactly once), the
 * unread count kept along, and a fresh read after every reconnection.
 */
import type { Notification, NotificationList, SubscriptionState } from '@taskwire/client';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { Client } from '../lib/session';

const PAGE = 50;

export interface Inbox {
  items: Notification[];
  unread: number;
  loaded: boolean;
  state: SubscriptionState;
  markRead(id: number): Promise<void>;
  markAllRead(): Promise<void>;
  retry(): void;
}

interface InboxState {
  items: Notification[];
  unread: number;
  loaded: boolean;
}

type InboxAction =
  | { type: 'loaded'; list: NotificationList }
  | { type: 'pushed'; n: Notification }
  | { type: 'read'; n: Notification }
  | { type: 'allRead' };

export function inboxReducer(s: InboxState, a: InboxAction): InboxState {
  switch (a.type) {
    case 'loaded': {
      // A REST read is the truth up to its seq; pushes newer than it stay.
      const newer = s.items.filter((n) => n.seq > a.list.seq);
      return {
        items: [...newer, ...a.list.notifications],
        unread: a.list.unread + newer.filter((n) => !n.read).length,
        loaded: true,
      };
    }
    case 'pushed': {
      if (s.items.some((x) => x.id === a.n.id)) return s;
      return { ...s, items: [a.n, ...s.items].slice(0, 4 * PAGE), unread: s.unread + (a.n.read ? 0 : 1) };
    }
    case 'read': {
      const was = s.items.find((x) => x.id === a.n.id);
      return {
        ...s,
        items: s.items.map((x) => (x.id === a.n.id ? a.n : x)),
        unread: was && !was.read && a.n.read ? Math.max(0, s.unread - 1) : s.unread,
      };
    }
    case 'allRead':
      return { ...s, items: s.items.map((x) => (x.read ? x : { ...x, read: true })), unread: 0 };
  }
}

export function useInbox(client: Client, onNotification: (n: Notification) => void): Inbox {
  const [inbox, dispatch] = useReducer(inboxReducer, { items: [], unread: 0, loaded: false });
  const [state, setState] = useState<SubscriptionState>('connecting');
  const retryRef = useRef<() => void>(() => {});
  const onNotificationRef = useRef(onNotification);
  onNotificationRef.current = onNotification;

  const reload = useCallback(async () => {
    dispatch({ type: 'loaded', list: await client.notifications.list({ limit: PAGE }) });
  }, [client]);

  useEffect(() => {
    let alive = true;
    let sub: ReturnType<Client['notifications']['subscribe']> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const start = async () => {
      let list: NotificationList;
      try {
        list = await client.notifications.list({ limit: PAGE });
      } catch {
        if (!alive) return;
        setState('reconnecting');
        timer = setTimeout(() => void start(), 3_000);
        return;
      }
      if (!alive) return;
      dispatch({ type: 'loaded', list });
      let wasLive = false;
      sub = client.notifications.subscribe({
        cursor: list.seq,
        onNotification: (n) => {
          if (!alive) return;
          dispatch({ type: 'pushed', n });
          onNotificationRef.current(n);
        },
      });
      sub.on('state', (s) => {
        if (!alive) return;
        setState(s);
        if (s === 'live') {
          // Reads made elsewhere (another tab) are not pushed: read the inbox again after a gap.
          if (wasLive) void reload().catch(() => {});
          wasLive = true;
        }
      });
      retryRef.current = () => sub?.retry();
    };
    void start();
    return () => {
      alive = false;
      clearTimeout(timer);
      sub?.close();
    };
  }, [client, reload]);

  const markRead = useCallback(
    async (id: number) => {
      dispatch({ type: 'read', n: await client.notifications.markRead(id) });
    },
    [client],
  );

  const markAllRead = useCallback(async () => {
    await client.notifications.markAllRead();
    dispatch({ type: 'allRead' });
    await reload();
  }, [client, reload]);

  const retry = useCallback(() => retryRef.current(), []);

  return useMemo(() => ({ ...inbox, state, markRead, markAllRead, retry }), [inbox, state, markRead, markAllRead, retry]);
}
