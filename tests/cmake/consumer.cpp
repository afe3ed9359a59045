// A program outside the library that uses it the way a user would.
#include <incision/incision.hpp>

#include <cstdio>

int main() {
  std::printf("incision %d.%d.%d\n", INCISION_VERSION_MAJOR, INCISION_VERSION_MINOR,
              INCISION_VERSION_PATCH);
  return INCISION_VERSION > 0 ? 0 : 1;
}
