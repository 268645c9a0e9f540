/** The ccxt venue's public surface: the venue, its error kinds and the candle download. */
export { CcxtVenue, ALLOW_REAL_TRADING, credentialVariables } from './ccxt-venue.js';
export type { CcxtMode, CcxtVenueOptions, ExchangeOrder, ExchangeTrade, VenueBalance, VenueCandle, VenueLogger } from './ccxt-venue.js';
export { VenueError, VenueHaltError, VenueErrorKind, classifyError, DUPLICATE_ORDER_MESSAGE } from './errors.js';
export { downloadCandles, CANDLE_CSV_HEADER } from './download-candles.js';
export type { CandleSource, DownloadCandlesOptions, DownloadCandlesResult } from './download-candles.js';
