// SPDX-License-Identifier: GPL-2.0
// Readable names for parameterised tests whose parameter has a `what`.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace dynsnap::test {

struct NameFromWhat {
	template <typename P>
	std::string operator()(const ::testing::TestParamInfo<P> &info) const
	{
		std::string name = info.param.what;
		for (char &c : name)
			if (!std::isalnum(static_cast<unsigned char>(c)))
				c = '_';
		return name;
	}
};

} // namespace dynsnap::test
