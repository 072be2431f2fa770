"""UsageRecords: the data an account's Super SIMs used, by period, priced by the rate card."""
