"""Product ids: unique, and later ones sort after earlier ones (see `new_product_id`)."""

import re
import time

from jobs_shared.store.catalog_port import new_product_id


def test_ids_made_later_sort_after_earlier_ones_and_never_repeat() -> None:
    earlier = [new_product_id() for _ in range(1000)]
    time.sleep(0.002)
    later = [new_product_id() for _ in range(1000)]

    assert max(earlier) < min(later)
    assert len(set(earlier + later)) == 2000
    assert all(re.fullmatch(r"prd_[0-9a-f]{24}", id_) for id_ in earlier + later)
