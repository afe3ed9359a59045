// Compiled with -fno-exceptions: every header must still build (INCISION_THROW terminates).
#include <incision/incision.hpp>
