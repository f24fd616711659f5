import { useErrors } from '../context';

/**
 * The latest error, when `source` caused it: rendered where the action
 * was taken, so the message sits next to its cause. Only one is ever shown.
 */
export function ErrorMessage({ source }: { source: string }) {
  const { latest } = useErrors();
  if (!latest || latest.source !== source) return null;
  return (
    <p class="error-message" data-testid="error-message" role="alert">
      {latest.message}
    </p>
  );
}
