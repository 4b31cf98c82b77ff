"""calsync: meeting regulations → calendars."""
