"""Building blocks that every layer uses: clock, SIDs, errors, paging, dates.

Nothing here imports anything else from the package.
"""
