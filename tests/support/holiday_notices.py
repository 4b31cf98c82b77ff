"""Holiday notices the tests paste or import (the real ones are in tests/fixtures/notices)."""

# A made-up 2027 arrangement (the real notice is not out): every weekday in brackets is right,
# and it bridges 02-09 – 02-12 and 05-03 – 05-05, so meetings move.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知

一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至2月13日（农历正月初八、周六）放假调休，共9天。\
2月14日（周日）、2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""
