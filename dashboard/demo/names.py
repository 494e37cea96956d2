"""Word lists for generated names: compounds, companies, shops, sites, people, roads.

Everything the demo invents is made from these parts, so that no generated record can be
mistaken for a real person's or company's. Road names are real Xuhui roads (public facts),
grouped by the subdistrict they mostly run through; the grouping is approximate.
"""

from __future__ import annotations

import re

# Real roads, roughly by subdistrict code (used for addresses of generated records).
ROADS: dict[str, tuple[str, ...]] = {
    "310104003": tuple("天平路 衡山路 淮海中路 康平路 高安路 宛平路 建国西路 永嘉路".split()),
    "310104004": tuple("湖南路 武康路 华山路 复兴西路 五原路 永福路 乌鲁木齐中路".split()),
    "310104007": tuple("斜土路 大木桥路 小木桥路 瑞金南路 中山南二路 日晖东路".split()),
    "310104008": tuple("枫林路 东安路 医学院路 零陵路 宛平南路 中山南二路".split()),
    "310104010": tuple("罗秀路 百色路 龙吴路 罗城路 龙川北路".split()),
    "310104011": tuple("田林路 钦州路 宜山路 桂林路 田林东路 柳州路 田州路".split()),
    "310104012": tuple("虹梅路 虹漕路 宜山路 漕宝路 钦州北路 古宜路".split()),
    "310104013": tuple("康健路 浦北路 漕宝路 桂林路 钦州南路".split()),
    "310104014": tuple("漕溪北路 虹桥路 华山路 肇嘉浜路 天钥桥路 南丹路 番禺路".split()),
    "310104015": tuple("凌云路 梅陇路 老沪闵路 龙川北路 上中西路".split()),
    "310104016": tuple("龙华中路 龙华西路 龙华路 龙漕路 云锦路 天钥桥南路 丰谷路".split()),
    "310104017": tuple("漕溪路 漕宝路 石龙路 上澳塘路 漕东支路 东泉路".split()),
    "310104103": tuple("华泾路 龙吴路 华发路 景洪路".split()),
    "310104501": tuple("宜山路 桂平路 钦州北路 宜州路 虹梅路 田林路 桂箐路".split()),
}

# Two-character stems for compound, company, shop and contractor names.
STEMS: tuple[str, ...] = tuple(
    "康乐 华庭 金汇 锦绣 明珠 阳光 和平 天和 嘉和 恒安 安居 丰华 翠竹 绿洲 春晖 秋实 瑞丰 永安 "
    "兴业 宏达 汇景 汇丰 金桂 银杏 紫薇 玉兰 海棠 香樟 梧桐 枫丹 明月 星河 云锦 龙腾 华府 华联 "
    "景泰 福寿 吉祥 如意 长乐 永和 鸿运 万福 东方 南华 西城 北辰 中和 新华 光明 振华 兴华 "
    "文华 书香 晨曦 朝阳 旭日 彩虹 青松 翠柏 芳草 兰亭 菊园 梅林 竹林 荷塘 清溪 碧水 蓝天 "
    "白云 金湾 银河 宝华 富康 荣华 祥和 泰和 静安 宁安 平安 久安 怡然 乐居 雅居 逸居 悦居 "
    "馨园 嘉禾 丰收 稻香 茗香 桂香 兰馨 雅苑 瑞金 瑞祥 鸿福 宏福 金鼎 汇鼎 景明 景和 锦华 "
    "锦江 锦程 康宁 康泰 康华 安泰 安康 华美 华盛 华兴 华通 华信 信达 通达 远达 远景 远航 "
    "启航 启明 启新 新城 新苑 新康 新光 晶华 晶品 曙光 紫荆 紫云 青云 凌霄 凌峰 峰景 江景".split()
)

# Compound kinds: the name suffix, how often it occurs, and what its buildings look like
# (floors range, footprint length x depth in metres, spacing between blocks in metres).
COMPOUND_KINDS: dict[str, dict] = {
    "estate": {  # 1950s-1990s walk-up slabs: 新村 / 村
        "suffixes": ("新村", "一村", "二村", "三村", "新村"),
        "weight": 0.34,
        "floors": (5, 7),
        "size": ((40.0, 70.0), (10.0, 12.0)),
        "gap_x": 10.0,
    },
    "lane": {  # lane houses: 坊 / 里
        "suffixes": ("坊", "里"),
        "weight": 0.08,
        "floors": (2, 3),
        "size": ((25.0, 45.0), (8.0, 10.0)),
        "gap_x": 4.0,
    },
    "compound": {  # mixed mid-rise: 小区
        "suffixes": ("小区",),
        "weight": 0.22,
        "floors": (6, 14),
        "size": ((35.0, 60.0), (12.0, 14.0)),
        "gap_x": 12.0,
    },
    "garden": {  # 1990s-2000s gardens: 花园 / 苑 / 家园
        "suffixes": ("花园", "苑", "家园", "花苑"),
        "weight": 0.24,
        "floors": (6, 18),
        "size": ((30.0, 50.0), (13.0, 16.0)),
        "gap_x": 14.0,
    },
    "tower": {  # high-rise: 公寓 / 大厦
        "suffixes": ("公寓", "大厦", "公馆"),
        "weight": 0.12,
        "floors": (14, 32),
        "size": ((24.0, 34.0), (18.0, 22.0)),
        "gap_x": 18.0,
    },
}

_KIND_BY_ENDING: tuple[tuple[str, str], ...] = (
    ("新村", "estate"),
    ("村", "estate"),
    ("村北", "estate"),
    ("村南", "estate"),
    ("坊", "lane"),
    ("里", "lane"),
    ("宅", "lane"),
    ("弄", "lane"),
    ("公寓", "tower"),
    ("豪庭", "tower"),
    ("瀛台", "tower"),
    ("华尔兹", "tower"),
    ("公馆", "tower"),
    ("大厦", "tower"),
    ("花园", "garden"),
    ("花苑", "garden"),
    ("家园", "garden"),
    ("苑", "garden"),
    ("园", "garden"),
    ("庭", "garden"),
    ("湾", "garden"),
    ("新城", "compound"),
    ("小区", "compound"),
)

_NUMERALS = "一二三四五六七八九十"
_ORDINAL_TAIL = re.compile(f"第[{_NUMERALS}、]+$")
_MULTI_VILLAGE = re.compile(f"^(.+?)([{_NUMERALS}]+(?:、[{_NUMERALS}]+)+)村$")
_BARE_NUMBER_TAIL = re.compile(f"[{_NUMERALS}]+$")


def committee_compound_names(committee_name: str) -> tuple[list[str], str | None]:
    """Compound names implied by a committee's name, and the kind they suggest.

    Most residential committees are named after the estate they serve (田林十二村居委会 serves
    田林十二村; 田林五、六、七村居委会 serves three estates). Using those names makes the
    demo read like Xuhui. Returns ([], None) when the name is no estate (e.g. a road).
    """
    stem = committee_name.removesuffix("居委会")
    stem = _ORDINAL_TAIL.sub("", stem)
    m = _MULTI_VILLAGE.match(stem)
    if m:
        base, nums = m.group(1), m.group(2).split("、")
        return [f"{base}{n}村" for n in nums], "estate"
    if stem.endswith(("路", "大学", "党校", "虚拟社区")):
        return [], None
    stripped = _BARE_NUMBER_TAIL.sub("", stem)
    if stripped != stem and not stem.endswith("村") and len(stripped) >= 2:
        stem = stripped
    for ending, kind in _KIND_BY_ENDING:
        if stem.endswith(ending):
            return [stem], kind
    return ([stem], None) if len(stem) >= 2 else ([], None)


INDUSTRIES: dict[str, dict] = {
    # industry: company-name word, trades that may lack labour, weight (outside / inside the park)
    "信息技术": {"word": "信息科技", "trades": ("程序员", "测试工程师", "运维"), "w": (0.10, 0.30)},
    "软件和信息服务": {"word": "软件", "trades": ("程序员", "产品经理", "客服"), "w": (0.06, 0.20)},
    "科学研究和技术服务": {"word": "生物科技", "trades": ("实验员", "技术员"), "w": (0.05, 0.14)},
    "商务服务": {"word": "企业管理咨询", "trades": ("文员", "销售"), "w": (0.14, 0.08)},
    "批发和零售": {"word": "贸易", "trades": ("销售", "仓管", "司机"), "w": (0.16, 0.05)},
    "餐饮": {"word": "餐饮管理", "trades": ("厨师", "服务员", "配送员"), "w": (0.10, 0.03)},
    "住宿": {"word": "酒店管理", "trades": ("服务员", "保洁"), "w": (0.03, 0.01)},
    "文化和娱乐": {"word": "文化传播", "trades": ("策划", "摄影师"), "w": (0.07, 0.03)},
    "金融": {"word": "投资管理", "trades": ("客户经理", "分析师"), "w": (0.05, 0.03)},
    "房地产和物业": {"word": "物业管理", "trades": ("保安", "保洁", "维修工"), "w": (0.07, 0.02)},
    "制造": {"word": "机电设备", "trades": ("普工", "电工", "焊工"), "w": (0.04, 0.06)},
    "建筑": {"word": "建筑装饰工程", "trades": ("木工", "电工", "普工"), "w": (0.05, 0.01)},
    "教育培训": {"word": "教育科技", "trades": ("教师", "助教"), "w": (0.05, 0.01)},
    "医疗卫生": {"word": "医疗器械", "trades": ("护士", "技术员"), "w": (0.03, 0.03)},
}

SHOP_KINDS: tuple[str, ...] = tuple(
    "便利店 水果店 面馆 生煎馆 理发店 药房 五金店 洗衣店 花店 早餐店 "
    "小吃店 超市 茶叶店 眼镜店 咖啡馆 烟杂店 馄饨店 面包房 修鞋铺 文具店".split()
)

SITE_PROJECTS: tuple[str, ...] = tuple(
    "地块商品住宅项目 保障性住房项目 办公楼新建工程 学校改扩建工程 医院综合楼项目 "
    "轨道交通配套工程 旧区改造项目 市政道路改建工程 商业综合体项目 公共绿地工程 "
    "地下车库工程 老旧小区综合整治工程".split()
)

SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
)

GIVEN_CHARS: tuple[str, ...] = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文辉海波鹏飞燕宇浩凯斌俊"
    "峰林琳雪梅婷晨阳宏伟亮健成东春晓云龙新民家宝德才福贵永庆荣安丹彬鑫森淑兵利"
)
