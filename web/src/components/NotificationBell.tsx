import type { Notification } from '@taskwire/client';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useAction, useSession } from '../context';
import { describeNotification, notificationHref } from '../lib/notifications';
import { ErrorMessage } from './ErrorMessage';
import { Link } from './Link';

function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
      />
    </svg>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function Item(props: { n: Notification; onRead: (id: number) => void; onOpen: () => void }) {
  const { n } = props;
  const text = describeNotification(n);
  const href = notificationHref(n);
  return (
    <li class={`notification ${n.read ? 'read' : 'unread'}`} data-testid={`notification-item-${n.id}`} data-read={String(n.read)}>
      <div class="notification-text">
        {href ? (
          <Link
            href={href}
            onClick={() => {
              if (!n.read) props.onRead(n.id);
              props.onOpen();
            }}
          >
            {text}
          </Link>
        ) : (
          <span>{text}</span>
        )}
        <span class="notification-meta">
          {n.data.project_name ? `${n.data.project_name} · ` : ''}
          <time dateTime={n.created_at}>{timeFormat.format(new Date(n.created_at))}</time>
          {n.read ? '' : ' · unread'}
        </span>
      </div>
      {!n.read && (
        <button
          type="button"
          class="small"
          data-testid={`notification-read-${n.id}`}
          aria-label={`Mark read: ${text}`}
          onClick={() => props.onRead(n.id)}
        >
          Mark read
        </button>
      )}
    </li>
  );
}

/** The bell with the unread count; clicking it shows the inbox. */
export function NotificationBell() {
  const { inbox } = useSession();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const bell = useRef<HTMLButtonElement>(null);
  const { run } = useAction('notifications');

  // A layout effect: the listeners are in place from the first frame the
  // inbox is shown, so an Escape pressed at once closes it and not the
  // task view under it.
  useLayoutEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        // Closes the inbox only: not the task view under it (whose listener runs after this capturing one).
        e.preventDefault();
        setOpen(false);
        bell.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onDown);
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('pointerdown', onDown);
      document.removeEventListener('keydown', onKey, true);
    };
  }, [open]);

  const label = inbox.unread === 0 ? 'Notifications' : `Notifications, ${inbox.unread} unread`;
  return (
    <div class="bell" ref={root}>
      <button
        ref={bell}
        type="button"
        class="bell-button"
        data-testid="notification-bell"
        data-unread={String(inbox.unread)}
        aria-label={label}
        aria-expanded={open}
        aria-controls="notification-panel"
        onClick={() => setOpen((o) => !o)}
      >
        <BellIcon />
        {inbox.unread > 0 && (
          <span class="badge" aria-hidden="true">
            {inbox.unread > 99 ? '99+' : inbox.unread}
          </span>
        )}
      </button>
      {open && (
        <section id="notification-panel" class="notification-panel" aria-labelledby="notification-heading">
          <div class="panel-head">
            <h2 id="notification-heading">Notifications</h2>
            <button
              type="button"
              class="small"
              data-testid="notification-read-all"
              onClick={() => void run(inbox.markAllRead)}
            >
              Mark all read
            </button>
          </div>
          <ErrorMessage source="notifications" />
          <ul class="notification-list" data-testid="notification-list">
            {inbox.items.length === 0 && <li class="empty">{inbox.loaded ? 'Nothing yet.' : 'Loading…'}</li>}
            {inbox.items.map((n) => (
              <Item key={n.id} n={n} onRead={(id) => void run(() => inbox.markRead(id))} onOpen={() => setOpen(false)} />
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
