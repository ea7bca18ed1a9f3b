import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { ReconcileSessionCommand } from '../lifecycle.command';
import { ReconcileResult, SessionReconciler } from './session-reconciler';

/** Reconcile on demand (`POST /sessions/:id/reconcile`, `runledger reconcile <id>`): the log made equal to the transcript, the runtime settled, never relaunched. */
@CommandHandler(ReconcileSessionCommand)
export class ReconcileSessionHandler implements ICommandHandler<ReconcileSessionCommand, ReconcileResult> {
  constructor(private readonly reconciler: SessionReconciler) {}

  execute({ sessionId, context }: ReconcileSessionCommand): Promise<ReconcileResult> {
    return this.reconciler.reconcile(sessionId, 'request', context);
  }
}
