"""`__in` on integer columns with values no column can hold.

Django answers `pk=10**25` with no rows (`IntegerFieldOverflow`) but sends
`pk__in=[10**25]` to the database, where SQLite raises OverflowError: a 500 from
any form with a multiple-choice of rows (the admin's group permissions) posted a
huge id. `IntegerFieldIn` leaves such values out, as they can match no row;
with none left the lookup matches nothing, as an empty `__in` does.
"""

import copy

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().process_rhs(compiler, connection)
        internal_type = self.lhs.output_field.get_internal_type()
        low, high = connection.ops.integer_field_range(internal_type)
        in_range = [
            value
            for value in self.rhs
            if not isinstance(value, int)
            or ((low is None or value >= low) and (high is None or value <= high))
        ]
        # A copy, so a query compiled again for another database keeps every value.
        lookup = copy.copy(self)
        lookup.rhs = in_range
        return In.process_rhs(lookup, compiler, connection)
