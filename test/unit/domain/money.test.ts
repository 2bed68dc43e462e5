import { ValidationError } from '../../../lambdas/domain/errors';
import { Money, currencyMinorUnits, formatAmount, parseAmount, parseCurrency } from '../../../lambdas/domain/money';

describe('money', () => {
  describe('parseAmount', () => {
    it.each([
      ['1250.00', 'EUR', '1250'],
      ['0.01', 'EUR', '0.01'],
      ['100', 'JPY', '100'],
      ['1.125', 'BHD', '1.125'],
      ['999999999999999999.99', 'USD', '999999999999999999.99'],
    ])('accepts %s %s exactly', (input, currency, expected) => {
      expect(parseAmount(input, currency).toFixed()).toBe(expected);
    });

    it.each([
      ['1250.001', 'EUR', 'EUR allows 2 decimal places'],
      ['1.5', 'JPY', 'JPY allows 0 decimal places'],
      ['0', 'EUR', 'greater than zero'],
      ['0.00', 'EUR', 'greater than zero'],
      ['-5.00', 'EUR', 'plain positive decimal'],
      ['-0', 'EUR', 'plain positive decimal'],
      ['1e3', 'EUR', 'plain positive decimal'],
      ['01.00', 'EUR', 'plain positive decimal'],
      ['1,000.00', 'EUR', 'plain positive decimal'],
      [' 1.00', 'EUR', 'plain positive decimal'],
      ['1.', 'EUR', 'plain positive decimal'],
      ['.5', 'EUR', 'plain positive decimal'],
      ['NaN', 'EUR', 'plain positive decimal'],
      ['Infinity', 'EUR', 'plain positive decimal'],
      ['１０', 'EUR', 'plain positive decimal'],
      ['1234567890123456789.00', 'EUR', 'more than 18 integer digits'],
    ])('refuses %s %s (%s), never rounding', (input, currency, message) => {
      expect(() => parseAmount(input, currency)).toThrow(ValidationError);
      expect(() => parseAmount(input, currency)).toThrow(message);
    });

    it.each([[12.5], [null], [undefined], [{}], [['1.00']]])('refuses a non-string amount %p: money is never a JS number', (input) => {
      expect(() => parseAmount(input, 'EUR')).toThrow('must be a decimal string');
    });
  });

  describe('currencies', () => {
    it('knows ISO 4217 minor units', () => {
      expect([currencyMinorUnits('EUR'), currencyMinorUnits('JPY'), currencyMinorUnits('KWD'), currencyMinorUnits('CLP')]).toEqual([2, 0, 3, 0]);
    });

    it.each(['eur', 'EURO', 'XXX', 'XAU', 'ZZZ', '', 'E U'])('refuses %p as a settlement currency', (code) => {
      expect(() => parseCurrency(code)).toThrow(ValidationError);
    });
  });

  describe('formatAmount', () => {
    it('fixes the wire form to the minor units', () => {
      expect(formatAmount(new Money('1250'), 'EUR')).toBe('1250.00');
      expect(formatAmount(new Money('7'), 'JPY')).toBe('7');
      expect(formatAmount(new Money('-0'), 'EUR')).toBe('0.00');
    });

    it('stops loudly instead of rounding an amount with too many decimals', () => {
      expect(() => formatAmount(new Money('0.001'), 'EUR')).toThrow('more than 2 decimals');
    });

    it('keeps precision far beyond a float', () => {
      const sum = new Money('0.1').plus('0.2');
      expect(formatAmount(sum, 'EUR')).toBe('0.30');
      expect(new Money('999999999999999999.99').plus('0.01').toFixed()).toBe('1000000000000000000');
    });
  });
});
