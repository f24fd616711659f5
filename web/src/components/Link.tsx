import type { ComponentChildren, JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { isModifiedClick, navigate } from '../lib/router';

type Props = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'> & { href: string; children: ComponentChildren };

/** An <a> that navigates inside the app (a modified click still opens a new tab). */
export function Link({ href, onClick, ...rest }: Props) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (onClick) (onClick as (ev: typeof e) => void)(e);
        if (e.defaultPrevented || isModifiedClick(e)) return;
        e.preventDefault();
        navigate(href);
      }}
    />
  );
}

/** Replaces the current history entry with `to` once rendered. */
export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
