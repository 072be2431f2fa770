"""Billing: billing periods, the data limit and the automatic `ready -> active`
(`periods`); what data use costs (`rates`); where usage is kept and rolled up
(`usage_store`)."""
