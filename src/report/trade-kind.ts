/**
 * The kind of a trade as the report and the export name it, from the pipeline's reason and
 * the intent's discretionary flag.
 */
import type { Trade } from '../engine/backtest.js';
import { TradeKind } from './types.js';

/** buy-ahead (discretionary procurement), routine (procurement for consumption), or the reason itself. */
export function tradeKindOf(trade: Pick<Trade, 'reason' | 'discretionary'>): TradeKind {
  switch (trade.reason) {
    case 'procure':
      return trade.discretionary ? TradeKind.buyAhead : TradeKind.routine;
    case 'forced-reorder':
      return TradeKind.forcedReorder;
    case 'hedge':
      return TradeKind.hedge;
    case 'unwind':
      return TradeKind.unwind;
    case 'emergency':
      return TradeKind.emergency;
    case 'roll-off':
      return TradeKind.rollOff;
    default:
      throw new Error(`internal: unknown trade reason ${JSON.stringify(trade.reason)}`);
  }
}
