// accounts_shared.cpp — prepare_account_lookups() for the full build: glibc
// is shared, so every NSS module nsswitch.conf names can be used as it is.
#include "accounts.hpp"

namespace foster {

void prepare_account_lookups() {}

}  // namespace foster
