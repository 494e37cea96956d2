"""The one message catalogue of the web app: every UI string, in Simplified Chinese and English.

Chinese is the default; English is chosen with ``?lang=en`` (the wall screen has no keyboard, so
the language is part of its URL) or the toggle on the browser pages. Layouts and callbacks never
hold UI strings: they ask :func:`t` for a key. ``tests/test_i18n.py`` checks that every key has
both languages and that every key used in ``layouts/`` and ``callbacks/`` exists here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Final
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

LANGS: Final = ("zh", "en")
# t bound to one language: what layouts receive as ``tr``.
Translator = Callable[[str], str]
DEFAULT_LANG: Final = "zh"

MESSAGES: Final[dict[str, dict[str, str]]] = {
    # --- shell, header
    "app.title": {"zh": "徐汇区 一网统管", "en": "Xuhui District · City Operations"},
    "app.district": {"zh": "徐汇区", "en": "Xuhui District"},
    "app.brand": {"zh": "一网统管", "en": "City Operations"},
    "app.subtitle": {"zh": "城市运行综合态势", "en": "One network manages the city"},
    "app.ops_title": {"zh": "运行维护", "en": "Operations"},
    "app.risk_title": {"zh": "社区风险分析", "en": "Community risk"},
    "app.crowd_title": {"zh": "人群热力图", "en": "Crowd heatmap"},
    "lang.zh": {"zh": "中文", "en": "中文"},
    "lang.en": {"zh": "EN", "en": "EN"},
    "nav.wall": {"zh": "大屏", "en": "Wall screen"},
    "nav.crowd": {"zh": "人群热力", "en": "Crowd heatmap"},
    "nav.risk": {"zh": "社区风险", "en": "Community risk"},
    "nav.registers": {"zh": "复工复市", "en": "Registers"},
    "nav.ops": {"zh": "运行维护", "en": "Operations"},
    # --- freshness
    "fresh.newest": {"zh": "数据更新", "en": "Data updated"},
    "fresh.all_on_time": {"zh": "各数据源按时更新", "en": "All feeds on time"},
    "fresh.late": {"zh": "数据迟到", "en": "Late"},
    "fresh.no_data": {"zh": "暂无数据", "en": "No data yet"},
    "fresh.never": {"zh": "从未更新", "en": "never"},
    "live.lost": {"zh": "连接中断，自 {time} 起", "en": "Connection lost since {time}"},
    "live.stale": {"zh": "数据过期", "en": "Stale"},
    "live.stale_title": {
        "zh": "数据已超过两个更新周期未更新：{names}",
        "en": "Not updated for over twice the expected interval: {names}",
    },
    "list.separator": {"zh": "、", "en": ", "},
    # --- station forecast (dashboard.forecast.peak_sentence)
    "forecast.and": {"zh": "和", "en": " and "},
    "forecast.peak_sentence": {
        "zh": "{windows}占全天到站客流的{share}",
        "en": "{windows} hold {share} of the day's arrivals",
    },
    "forecast.peak_sentence_one": {
        "zh": "{windows}占全天到站客流的{share}",
        "en": "{windows} holds {share} of the day's arrivals",
    },
    # --- datasets
    "dataset.areas": {"zh": "行政区划", "en": "Areas"},
    "dataset.indicators": {"zh": "风险指标", "en": "Risk indicators"},
    "dataset.risk": {"zh": "风险评分", "en": "Risk scores"},
    "dataset.pings": {"zh": "人流定位", "en": "Location pings"},
    "dataset.crowd": {"zh": "人群密度", "en": "Crowd density"},
    "dataset.enterprises": {"zh": "企业复工", "en": "Enterprises"},
    "dataset.shops": {"zh": "商铺复市", "en": "Shops"},
    "dataset.sites": {"zh": "工地复产", "en": "Construction sites"},
    "dataset.station_flows": {"zh": "车站客流", "en": "Station arrivals"},
    "dataset.station_bookings": {"zh": "车站预订", "en": "Station bookings"},
    "dataset.forecasts": {"zh": "客流预测", "en": "Flow forecasts"},
    "dataset.work_orders": {"zh": "派单工单", "en": "Work orders"},
    # --- KPI tiles
    "kpi.section": {"zh": "核心指标", "en": "Key figures"},
    "kpi.subdistricts": {"zh": "街镇", "en": "Subdistricts"},
    "kpi.committees": {"zh": "居委会", "en": "Residential committees"},
    "kpi.compounds": {"zh": "小区", "en": "Housing compounds"},
    "kpi.residents": {"zh": "常住人口", "en": "Residents"},
    "kpi.enterprises": {"zh": "企业复工", "en": "Enterprises reopened"},
    "kpi.shops": {"zh": "商铺营业", "en": "Shops open"},
    "kpi.sites": {"zh": "在建工地", "en": "Construction sites"},
    "kpi.workers": {"zh": "工地在岗人数", "en": "Workers on site"},
    "kpi.arrivals": {"zh": "工地今日新到", "en": "New arrivals at sites today"},
    "kpi.stations": {"zh": "轨交与铁路站点", "en": "Metro and railway stations"},
    "kpi.pings": {"zh": "近15分钟定位", "en": "Pings, last 15 min"},
    "kpi.work_orders": {"zh": "未办结工单", "en": "Open work orders"},
    # --- map
    "map.title": {
        "zh": "小区风险等级 红·黄·蓝",
        "en": "Housing compounds by risk band",
    },
    "map.committee": {"zh": "居委会", "en": "Committee"},
    "map.subdistrict": {"zh": "街镇", "en": "Subdistrict"},
    "map.score": {"zh": "风险评分", "en": "Risk score"},
    # --- community risk: the bands and the wall's panel
    "risk.band.red": {"zh": "红", "en": "Red"},
    "risk.band.yellow": {"zh": "黄", "en": "Yellow"},
    "risk.band.blue": {"zh": "蓝", "en": "Blue"},
    "risk.level.red": {"zh": "高风险", "en": "high"},
    "risk.level.yellow": {"zh": "中风险", "en": "medium"},
    "risk.level.blue": {"zh": "一般风险", "en": "general"},
    "risk.legend.red": {"zh": "红 ≥ 60", "en": "Red ≥ 60"},
    "risk.legend.yellow": {"zh": "黄 40–60", "en": "Yellow 40–60"},
    "risk.legend.blue": {"zh": "蓝 < 40", "en": "Blue < 40"},
    "risk.legend.incomplete": {
        "zh": "浅色白边：数据不全",
        "en": "Pale, white edge: incomplete",
    },
    "risk.legend.none": {"zh": "未评分", "en": "Not scored"},
    "risk.no_scores": {"zh": "暂无风险评分", "en": "No risk scores yet"},
    "risk.vs_yesterday": {"zh": "较昨日", "en": "vs yesterday"},
    "risk.vs_day": {"zh": "较{date}", "en": "vs {date}"},
    "risk.first_day": {"zh": "首日评分", "en": "first day scored"},
    "risk.incomplete_count": {"zh": "其中数据不全 {n} 个", "en": "{n} of them incomplete"},
    "risk.top": {"zh": "评分最高的小区", "en": "Highest-scoring compounds"},
    "risk.by_subdistrict": {"zh": "各街镇风险分布", "en": "Bands by subdistrict"},
    "risk.incomplete_mark": {"zh": "不全", "en": "incomplete"},
    # --- the /risk page
    "risk.pick_date": {"zh": "评分日期", "en": "Scored day"},
    "risk.pick_compound": {"zh": "小区", "en": "Compound"},
    "risk.search_placeholder": {
        "zh": "输入小区或街镇名称搜索，或点击地图",
        "en": "Type a compound or subdistrict name, or click the map",
    },
    "risk.model_note": {
        "zh": "现行模型 {version}：≥ 60 红色高风险，40–60 黄色中风险，< 40 蓝色一般风险",
        "en": "Model in force {version}: 60 and above red (high), 40 to 60 yellow (medium), "
        "below 40 blue (general)",
    },
    "risk.model_invalid": {
        "zh": "现行模型文件无效：{error}",
        "en": "The model file in force is invalid: {error}",
    },
    "risk.map_title": {"zh": "小区风险地图", "en": "Compounds on the map"},
    "risk.map_hint": {
        "zh": "点击地图上的小区，查看其评分原因。",
        "en": "Click a compound on the map to see why it scored what it did.",
    },
    "risk.pick_prompt": {
        "zh": "请在地图上点击或在上方搜索一个小区。",
        "en": "Pick a compound on the map or search for it above.",
    },
    "risk.not_scored": {
        "zh": "该小区在 {date} 没有评分。",
        "en": "This compound has no score for {date}.",
    },
    "risk.score": {"zh": "风险评分", "en": "Score"},
    "risk.upper": {"zh": "上限（缺失项按最坏计）", "en": "Upper bound (missing at worst)"},
    "risk.rank": {"zh": "全区排名", "en": "District rank"},
    "risk.rank_of": {"zh": "第 {rank} 名 / {total}", "en": "{rank} of {total}"},
    "risk.rank_up": {"zh": "较{date}上升 {n} 位", "en": "up {n} since {date}"},
    "risk.rank_down": {"zh": "较{date}下降 {n} 位", "en": "down {n} since {date}"},
    "risk.rank_same": {"zh": "与{date}持平", "en": "same as {date}"},
    "risk.rank_new": {"zh": "前一评分日无排名", "en": "no rank the day before"},
    "risk.complete": {"zh": "13 项指标数据完整", "en": "All 13 indicators known"},
    "risk.incomplete": {
        "zh": "数据不全：{names} 缺失；缺失项按最坏计，评分最高可达 {upper}",
        "en": "Incomplete: {names} missing; with those at their worst the score could reach "
        "{upper}",
    },
    "risk.history": {"zh": "近30天评分", "en": "Score over the last 30 days"},
    "risk.contributions": {
        "zh": "各指标贡献（权重 × 分项得分）",
        "en": "Contribution of each indicator (weight × sub-score)",
    },
    "risk.contribution": {"zh": "贡献分", "en": "Points"},
    "risk.possible": {"zh": "最大可能贡献", "en": "At most"},
    "risk.missing": {"zh": "缺失", "en": "missing"},
    "risk.carried_note": {
        "zh": "* 当日未报，沿用此前数据",
        "en": "* not reported that day: an earlier value carried forward",
    },
    "risk.values": {"zh": "原始数据", "en": "Raw values"},
    "risk.flag.carried": {"zh": "沿用 {date} 数据", "en": "carried from {date}"},
    "risk.flag.missing": {"zh": "缺失", "en": "missing"},
    "risk.population": {"zh": "常住人口 {n}", "en": "{n} residents"},
    "basis.count": {"zh": "数量", "en": "count"},
    "basis.per_1000_residents": {"zh": "每千常住人口", "en": "per 1,000 residents"},
    "basis.ratio": {"zh": "比例", "en": "share"},
    # --- what-if weights
    "whatif.title": {
        "zh": "权重试算（不改变现行模型）",
        "en": "What if the weights were different? (The model in force does not change.)",
    },
    "whatif.note": {
        "zh": "每项权重 3%–20%，合计须为 100%。按所选日期的数据重新评分，列出等级改变的小区。",
        "en": "Each weight 3–20 %, summing to 100 %. The chosen day is re-scored with these "
        "weights, and the compounds that would change band are listed.",
    },
    "whatif.sum": {"zh": "合计 {sum}%", "en": "Total {sum} %"},
    "whatif.reset": {"zh": "恢复现行权重", "en": "Reset to the model in force"},
    "whatif.err_empty": {"zh": "请填写“{name}”的权重。", "en": "Give a weight for “{name}”."},
    "whatif.err_low": {
        "zh": "“{name}”的权重 {value}% 低于下限 {min}%（每项 {min}%–{max}%）。",
        "en": "“{name}”: {value} % is below the minimum {min} % (each weight {min}–{max} %).",
    },
    "whatif.err_high": {
        "zh": "“{name}”的权重 {value}% 高于上限 {max}%（每项 {min}%–{max}%）。",
        "en": "“{name}”: {value} % is above the maximum {max} % (each weight {min}–{max} %).",
    },
    "whatif.err_sum": {
        "zh": "权重合计 {sum}%，须为 100%。",
        "en": "The weights add up to {sum} %, not 100 %.",
    },
    "whatif.err_model": {
        "zh": "现行模型文件无效，无法试算：{error}",
        "en": "The model file in force is invalid, so nothing can be tried: {error}",
    },
    "whatif.no_day": {"zh": "请先选择评分日期。", "en": "Pick a scored day first."},
    "whatif.result": {
        "zh": "{total} 个小区中有 {n} 个等级改变",
        "en": "{n} of {total} compounds change band",
    },
    "whatif.none": {
        "zh": "{total} 个小区的等级均不变",
        "en": "None of the {total} compounds changes band",
    },
    "whatif.more": {"zh": "另有 {n} 个未列出", "en": "and {n} more"},
    "col.transition": {"zh": "等级变化", "en": "Change"},
    "col.count": {"zh": "小区数", "en": "Compounds"},
    "col.compound": {"zh": "小区", "en": "Compound"},
    "col.subdistrict": {"zh": "街镇", "en": "Subdistrict"},
    "col.score_now": {"zh": "现行评分", "en": "Score now"},
    "col.score_whatif": {"zh": "试算评分", "en": "What-if score"},
    "col.indicator": {"zh": "指标", "en": "Indicator"},
    "col.value": {"zh": "原始值", "en": "Value"},
    "col.basis": {"zh": "口径", "en": "Basis"},
    "col.basis_value": {"zh": "口径值", "en": "Basis value"},
    "col.cap": {"zh": "封顶值", "en": "Cap"},
    "col.weight": {"zh": "权重", "en": "Weight"},
    "col.sub_score": {"zh": "分项得分", "en": "Sub-score"},
    "col.contribution": {"zh": "贡献分", "en": "Points"},
    "col.note": {"zh": "备注", "en": "Note"},
    # --- crowd heatmap: the four levels, the wall's panel and the /crowd page
    "crowd.level.blue": {"zh": "稀疏", "en": "Sparse"},
    "crowd.level.green": {"zh": "适中", "en": "Moderate"},
    "crowd.level.yellow": {"zh": "较密", "en": "Busy"},
    "crowd.level.red": {"zh": "密集", "en": "Dense"},
    "crowd.legend.blue": {"zh": "蓝 稀疏 < {hi}", "en": "Blue, sparse: < {hi}"},
    "crowd.legend.green": {"zh": "绿 适中 {lo}–{hi}", "en": "Green, moderate: {lo}–{hi}"},
    "crowd.legend.yellow": {"zh": "黄 较密 {lo}–{hi}", "en": "Yellow, busy: {lo}–{hi}"},
    "crowd.legend.red": {"zh": "红 密集 ≥ {lo}", "en": "Red, dense: ≥ {lo}"},
    "crowd.legend.unit": {"zh": "人/平方公里", "en": "people/km²"},
    "crowd.k_note": {
        "zh": "为保护个人信息，不足 {k} 人的网格不单独显示；只显示网格汇总，不含个人数据。",
        "en": "To protect privacy, a cell with fewer than {k} people is not shown on its own; "
        "only totals per cell are shown, never a person's data.",
    },
    "crowd.k_short": {"zh": "不足 {k} 人的网格不显示", "en": "cells under {k} hidden"},
    "crowd.as_of": {"zh": "截至 {time}", "en": "as of {time}"},
    "crowd.no_data": {"zh": "暂无人群数据", "en": "No crowd data yet"},
    "crowd.people.yellow": {"zh": "黄色网格人数", "en": "In yellow cells"},
    "crowd.people.red": {"zh": "红色网格人数", "en": "In red cells"},
    "crowd.cells": {"zh": "{n} 个网格", "en": "{n} cells"},
    "crowd.red_areas": {"zh": "最大的红色区域", "en": "Largest red areas"},
    "crowd.no_red": {"zh": "当前没有红色区域", "en": "No red area now"},
    "crowd.near": {"zh": "{place}附近", "en": "near {place}"},
    "crowd.area_size": {"zh": "{km2} 平方公里", "en": "{km2} km²"},
    "crowd.people_n": {"zh": "{n} 人", "en": "{n} people"},
    "crowd.kind.metro": {"zh": "地铁站", "en": "metro"},
    "crowd.kind.railway": {"zh": "火车站", "en": "railway station"},
    "crowd.kind.compound": {"zh": "小区", "en": "compound"},
    "crowd.kind.committee": {"zh": "居委", "en": "committee"},
    "crowd.distance": {"zh": "{m} 米", "en": "{m} m"},
    "crowd.play": {"zh": "播放", "en": "Play"},
    "crowd.pause": {"zh": "暂停", "en": "Pause"},
    "crowd.time": {"zh": "时段（近24小时）", "en": "Window (last 24 hours)"},
    "crowd.map_title": {"zh": "网格人群密度", "en": "Crowd density per cell"},
    "crowd.map_hint": {
        "zh": "滚轮可从全区缩放到街区，颜色等级按密度而定，不随缩放改变；"
        "点击网格查看其近24小时密度。",
        "en": "Zoom from the district to a block with the wheel: a cell's level is set by its "
        "density and does not change with the zoom. Click a cell to see its last 24 hours.",
    },
    "crowd.summary": {"zh": "本时段", "en": "This window"},
    "crowd.history": {"zh": "网格近24小时密度", "en": "The cell's density over 24 hours"},
    "crowd.pick_cell": {
        "zh": "请点击地图上的一个网格。",
        "en": "Click a cell on the map.",
    },
    "crowd.cell": {"zh": "网格 {cell}", "en": "Cell {cell}"},
    "crowd.density": {"zh": "密度", "en": "Density"},
    "crowd.density_unit": {"zh": "人/平方公里", "en": "people/km²"},
    "crowd.gaps": {
        "zh": "曲线空缺：该时段无数据或不足 {k} 人，不显示。",
        "en": "Gaps: no data, or fewer than {k} people in that window (not shown).",
    },
    # --- the wall's overview tiles and registers panel (issue 5)
    "dataset.epidemic": {"zh": "疫情通报", "en": "Epidemic figures"},
    "dataset.home_observation": {"zh": "居家观察", "en": "Home observation"},
    "dataset.disinfection": {"zh": "场所消杀", "en": "Disinfection"},
    "dataset.masks": {"zh": "口罩预约发放", "en": "Masks"},
    "dataset.returnees": {"zh": "楼宇返岗", "en": "Office returnees"},
    "ov.section": {"zh": "疫情与防控", "en": "Epidemic and prevention"},
    "ov.epidemic.title": {"zh": "疫情态势", "en": "Cases"},
    "ov.level.country": {"zh": "全国", "en": "Country"},
    "ov.level.city": {"zh": "全市", "en": "City"},
    "ov.level.district": {"zh": "本区", "en": "District"},
    "ov.new": {"zh": "新增", "en": "New"},
    "ov.current": {"zh": "现有", "en": "Current"},
    "ov.home.title": {"zh": "居家观察", "en": "Home observation"},
    "ov.vs_day_before": {"zh": "较前日", "en": "vs day before"},
    "ov.disinfection.title": {"zh": "今日消杀", "en": "Disinfection"},
    "ov.done_of": {"zh": "已完成 / 应消杀", "en": "done / due today"},
    "ov.overdue": {"zh": "逾期 {n}", "en": "{n} overdue"},
    "ov.masks.title": {"zh": "口罩 发放/预约", "en": "Masks delivered"},
    "ov.masks.week": {"zh": "近{days}日 {d} / {r}", "en": "{days} days: {d} / {r}"},
    "ov.returnees.title": {
        "zh": "返岗人数增长最快的楼宇（近7日）",
        "en": "Office buildings, returnees rising fastest (7 days)",
    },
    "ov.returnees.rule": {
        "zh": "增量 = 近7日最新人数 − 最早人数",
        "en": "rise = newest count − oldest count in 7 days",
    },
    "ov.returnees.none": {"zh": "近7日没有楼宇返岗增加", "en": "No building rose in 7 days"},
    "ov.days": {"zh": "{n}天", "en": "{n} d"},
    "ov.no_data": {"zh": "暂无数据", "en": "No data yet"},
    "wall.as_of_time": {"zh": "截至 {time}", "en": "as of {time}"},
    "reg.enterprises": {"zh": "企业复工", "en": "Enterprises"},
    "reg.shops": {"zh": "商铺复市", "en": "Shops today"},
    "reg.sites": {"zh": "工地复产", "en": "Construction sites"},
    "reg.delta_note": {"zh": "括号内为较昨日变化", "en": "(change since yesterday)"},
    "reg.state.not_registered": {"zh": "未登记", "en": "Not registered"},
    "reg.state.registered": {"zh": "已登记", "en": "Registered"},
    "reg.state.approved": {"zh": "已审核", "en": "Approved"},
    "reg.state.reopened": {"zh": "已复工", "en": "Reopened"},
    "reg.state.suspended": {"zh": "暂停", "en": "Suspended"},
    "reg.state.open": {"zh": "今日营业", "en": "Open"},
    "reg.state.closed": {"zh": "今日未营业", "en": "Closed"},
    "reg.state.unreported": {"zh": "今日未报", "en": "Not reported"},
    "reg.headcount": {"zh": "返岗 / 计划", "en": "Back/plan"},
    "reg.gap": {"zh": "用工缺口", "en": "Labour gap"},
    "reg.gap_none": {"zh": "无用工缺口", "en": "No labour gap"},
    "reg.staff": {"zh": "从业人员", "en": "Staff"},
    "kpi.short.subdistricts": {"zh": "街镇", "en": "subdistr."},
    "kpi.short.committees": {"zh": "居委", "en": "committ."},
    "kpi.short.compounds": {"zh": "小区", "en": "compounds"},
    "kpi.short.residents": {"zh": "常住人口", "en": "residents"},
    "kpi.short.stations": {"zh": "站点", "en": "stations"},
    "reg.site_states": {"zh": "已复工 / 工地", "en": "Reopened / sites"},
    "reg.site_headcount": {"zh": "在岗", "en": "On site"},
    "reg.new_arrivals": {"zh": "今日新到", "en": "New today"},
    "reg.flagged": {"zh": "重点地区来沪未核验", "en": "Unchecked arrivals"},
    "reg.flagged_n": {"zh": "{n} 人", "en": "{n}"},
    "reg.flagged_none": {"zh": "无未核验工地", "en": "No unchecked site"},
    "reg.more": {"zh": "另 {n} 个", "en": "+{n} more"},
    "reg.legend.open": {"zh": "复工/营业", "en": "Open"},
    "reg.legend.approved": {"zh": "已审核", "en": "Approved"},
    "reg.legend.registered": {"zh": "已登记", "en": "Registered"},
    "reg.legend.none": {"zh": "未登记/未报", "en": "None"},
    "reg.legend.stopped": {"zh": "暂停/未营业", "en": "Stopped"},
    "reg.legend.flagged": {"zh": "工地未核验", "en": "Flagged"},
    # --- placeholders for later issues
    "panel.risk.title": {"zh": "社区风险 红·黄·蓝", "en": "Community risk"},
    "panel.crowd.title": {"zh": "人群热力图", "en": "Crowd heatmap"},
    "panel.registers.title": {"zh": "复工 · 复市 · 复产", "en": "Enterprises, shops, sites"},
    "panel.registers.body": {
        "zh": "分街镇展示企业复工登记与员工返岗、商铺营业与从业人员、"
        "工地在岗人数与重点地区来沪人员核验。",
        "en": "Per subdistrict: enterprise reopening and returning staff, shops open and "
        "their staff, construction-site headcount and checks on arrivals from key regions.",
    },
    "panel.station.title": {"zh": "上海南站 客流预测", "en": "Shanghai South Station arrivals"},
    "panel.station.body": {
        "zh": "对接铁路票务的未来24小时逐时到达预测，标出高峰时段并给出查验人员配置建议。",
        "en": "Hourly forecast of the next 24 hours of arrivals from railway bookings, with "
        "the peak windows marked and advice on checker staffing.",
    },
    "panel.coming": {"zh": "后续版本上线", "en": "Later release"},
    # --- the wall's views, named at its foot while it rotates (layouts.wall.view_indicator)
    "view.overview": {"zh": "总览", "en": "Overview"},
    "view.risk": {"zh": "社区风险", "en": "Risk"},
    "view.crowd": {"zh": "人群热力", "en": "Crowds"},
    "view.registers": {"zh": "复工复市", "en": "Registers"},
    "view.station": {"zh": "车站客流", "en": "Station"},
    # --- station passenger flow: the wall's panel and /station (dashboard.station_view)
    "app.station_title": {"zh": "车站客流预测", "en": "Station passenger flow"},
    "nav.station": {"zh": "车站客流", "en": "Stations"},
    "station.title": {"zh": "{name} 客流预测", "en": "{name}: arrivals"},
    "station.pick": {"zh": "车站", "en": "Station"},
    "station.issued": {"zh": "预测发布于 {time}", "en": "forecast issued {time}"},
    "station.flows_as_of": {"zh": "客流数据截至 {time}", "en": "arrivals as of {time}"},
    "station.no_station": {"zh": "暂无车站客流数据", "en": "No station has arrivals yet"},
    "station.no_forecast": {
        "zh": "尚无预测：历史客流不足或预测任务尚未运行",
        "en": "No forecast yet: too little history, or the forecast job has not run",
    },
    "station.no_peaks": {"zh": "高峰时段：暂无", "en": "Peak windows: not known yet"},
    "station.staff_window": {"zh": "{window} 需验票员 {n} 人", "en": "{window} needs {n} checkers"},
    "station.staff_window_more": {"zh": "{window} 需 {n} 人", "en": "{window} {n}"},
    "station.staff_extra": {
        "zh": "{windows}，比现排班多 {extra} 人",
        "en": "{windows}: {extra} more than the roster",
    },
    "station.staff_enough": {
        "zh": "{windows}，现排班（每小时 {roster} 人）足够",
        "en": "{windows}: the roster's {roster} an hour is enough",
    },
    "station.accuracy": {
        "zh": "昨日准确度 MAPE {mape} · MAE {mae} 人/时（{hours} 小时）",
        "en": "Yesterday: MAPE {mape} · MAE {mae} an hour ({hours} h)",
    },
    "station.no_accuracy": {
        "zh": "昨日准确度：暂无（昨日零点时尚无预测）",
        "en": "Yesterday's accuracy: none (no forecast made by its midnight run)",
    },
    "station.accuracy_note": {
        "zh": "昨日各小时实际到站与昨日零点那一次（或之前最近一次）发布的预测相比。",
        "en": "Yesterday's hours against the forecast of its midnight run (or the last before it).",
    },
    "station.legend.forecast": {"zh": "预测", "en": "Forecast"},
    "station.legend.band80": {"zh": "80%区间", "en": "80% interval"},
    "station.legend.band95": {"zh": "95%区间", "en": "95% interval"},
    "station.legend.actual": {"zh": "实际到站", "en": "Actual"},
    "station.legend.past_forecast": {"zh": "当时预测", "en": "Forecast then"},
    "station.legend.now": {"zh": "现在", "en": "now"},
    "station.unit": {"zh": "人次/时", "en": "arrivals / h"},
    "station.view_title": {
        "zh": "今日已过时段与未来24小时",
        "en": "Today so far and the next 24 hours",
    },
    "station.advice_title": {"zh": "高峰与验票员配置", "en": "Peaks and checkers"},
    "station.backtest.title": {
        "zh": "回测：{origins} 个每日起点，提前 24 小时",
        "en": "Backtest: {origins} daily origins, 24 hours ahead",
    },
    "station.backtest.loading": {"zh": "回测计算中…", "en": "Running the backtest…"},
    "station.backtest.error": {"zh": "无法回测：{error}", "en": "No backtest: {error}"},
    "station.backtest.method": {"zh": "方法", "en": "Method"},
    "station.backtest.model": {"zh": "本模型 {model}", "en": "This model, {model}"},
    "station.backtest.naive24": {
        "zh": "24小时季节朴素（前一天同一小时）",
        "en": "Seasonal naive 24 h (same hour yesterday)",
    },
    "station.backtest.naive168": {
        "zh": "168小时季节朴素（上周同一小时）",
        "en": "Seasonal naive 168 h (same hour last week)",
    },
    "station.backtest.ratio": {
        "zh": "本模型 ÷ 较好的朴素方法：{ratio}",
        "en": "Model ÷ the better naive: {ratio}",
    },
    "station.backtest.coverage": {
        "zh": "区间覆盖率：80%区间 {c80}，95%区间 {c95}",
        "en": "Interval coverage: 80% interval {c80}, 95% interval {c95}",
    },
    "station.backtest.seconds": {
        "zh": "每次拟合与预测 {seconds} 秒",
        "en": "{seconds} s per fit and forecast",
    },
    "station.backtest.bookings": {
        "zh": "用到了铁路票务预订数据",
        "en": "Railway bookings used as a leading indicator",
    },
    "station.backtest.what": {
        "zh": "MASE：预测的平均绝对误差 ÷ “前一天同一小时”在训练数据上的平均绝对误差；"
        "小于 1 即比它准，越小越好。",
        "en": "MASE: the forecast's mean absolute error divided by that of \"same hour "
        'yesterday" on the training data; below 1 beats it, lower is better.',
    },
    # --- ops page
    "ops.batches": {"zh": "最近导入批次", "en": "Recent import batches"},
    "ops.quarantine": {"zh": "隔离行（未入库）", "en": "Quarantined rows"},
    "ops.quarantine_note": {
        "zh": "仅显示原因与说明；原始行可能含个人信息，不在此页展示。",
        "en": "Reason and detail only: the raw rows may hold personal data and are not shown.",
    },
    "ops.jobs": {"zh": "最近任务运行", "en": "Recent job runs"},
    "ops.freshness": {"zh": "数据新鲜度", "en": "Data freshness"},
    "ops.empty": {"zh": "暂无记录", "en": "Nothing yet"},
    "col.id": {"zh": "编号", "en": "ID"},
    "col.kind": {"zh": "类型", "en": "Kind"},
    "col.file": {"zh": "文件", "en": "File"},
    "col.status": {"zh": "状态", "en": "Status"},
    "col.rows_read": {"zh": "读取", "en": "Read"},
    "col.rows_loaded": {"zh": "入库", "en": "Loaded"},
    "col.rows_quarantined": {"zh": "隔离", "en": "Quarantined"},
    "col.rows_duplicate": {"zh": "重复", "en": "Duplicates"},
    "col.started": {"zh": "开始", "en": "Started"},
    "col.finished": {"zh": "结束", "en": "Finished"},
    "col.message": {"zh": "说明", "en": "Message"},
    "col.batch": {"zh": "批次", "en": "Batch"},
    "col.row": {"zh": "行号", "en": "Row"},
    "col.reason": {"zh": "原因", "en": "Reason"},
    "col.detail": {"zh": "详情", "en": "Detail"},
    "col.job": {"zh": "任务", "en": "Job"},
    "col.rows": {"zh": "行数", "en": "Rows"},
    "col.error": {"zh": "错误", "en": "Error"},
    "col.dataset": {"zh": "数据集", "en": "Dataset"},
    "col.version": {"zh": "版本", "en": "Version"},
    "col.updated_at": {"zh": "更新时间", "en": "Updated"},
    "col.age": {"zh": "距今", "en": "Age"},
    "col.expected": {"zh": "应更新间隔", "en": "Expected every"},
    "col.late": {"zh": "是否迟到", "en": "Late"},
    "status.loaded": {"zh": "已入库", "en": "loaded"},
    "status.rejected": {"zh": "已拒收", "en": "rejected"},
    "status.running": {"zh": "运行中", "en": "running"},
    "status.ok": {"zh": "成功", "en": "ok"},
    "status.failed": {"zh": "失败", "en": "failed"},
    "status.late": {"zh": "迟到", "en": "late"},
    "status.on_time": {"zh": "按时", "en": "on time"},
    "status.not_tracked": {"zh": "不考核", "en": "not tracked"},
    # --- registers page (/registers)
    "app.registers_title": {"zh": "复工复市复产台账", "en": "Registers"},
    "registers.tab.enterprises": {"zh": "企业复工", "en": "Enterprises"},
    "registers.tab.shops": {"zh": "沿街商铺", "en": "Street shops"},
    "registers.tab.sites": {"zh": "建设工地", "en": "Construction sites"},
    "registers.tab.disinfection": {"zh": "重点场所消杀", "en": "Disinfection"},
    "registers.subdistrict": {"zh": "街镇", "en": "Subdistrict"},
    "registers.all_subdistricts": {"zh": "全部街镇", "en": "All subdistricts"},
    "registers.state": {"zh": "状态", "en": "State"},
    "registers.all_states": {"zh": "全部状态", "en": "All states"},
    "registers.search": {"zh": "搜索", "en": "Search"},
    "registers.search_placeholder": {
        "zh": "名称、编号、地址……",
        "en": "Name, id, address…",
    },
    "registers.export_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "registers.export_excel": {"zh": "导出 Excel", "en": "Export Excel"},
    "registers.export_note": {
        "zh": "导出当前显示的行（按当前筛选和排序），仅含台账字段与汇总数，不含个人信息。",
        "en": "Exports the rows shown (as filtered and sorted), register fields and "
        "aggregates only: no personal data.",
    },
    "registers.as_of": {"zh": "数据截至 {time}", "en": "As of {time}"},
    "registers.late": {"zh": "（数据迟到）", "en": " (late)"},
    "registers.count": {
        "zh": "共 {n} 条，其中滞后 {k} 条",
        "en": "{n} rows, {k} lagging",
    },
    "registers.lagging_note": {
        "zh": "滞后的排在最前并以红色标出：计划复工日已过仍未复工、重点地区来沪人员未核验、"
        "今日未报营业状态、消杀逾期。",
        "en": "Lagging rows come first, marked red: planned reopening date passed, "
        "key-region arrivals unchecked, no report today, disinfection overdue.",
    },
    "registers.state.not_registered": {"zh": "未登记", "en": "not registered"},
    "registers.state.registered": {"zh": "已登记", "en": "registered"},
    "registers.state.approved": {"zh": "已审核", "en": "approved"},
    "registers.state.reopened": {"zh": "已复工", "en": "reopened"},
    "registers.state.suspended": {"zh": "暂停", "en": "suspended"},
    "registers.state.open": {"zh": "营业", "en": "open"},
    "registers.state.closed": {"zh": "未营业", "en": "closed"},
    "registers.state.unreported": {"zh": "今日未报", "en": "not reported today"},
    "registers.state.closed_down": {"zh": "已歇业", "en": "closed down"},
    "registers.state.overdue": {"zh": "逾期", "en": "overdue"},
    "registers.state.pending": {"zh": "待消杀", "en": "due"},
    "registers.state.done": {"zh": "已消杀", "en": "done"},
    "registers.lag.planned_passed": {
        "zh": "计划复工日已过",
        "en": "planned reopening date passed",
    },
    "registers.lag.unchecked_arrivals": {
        "zh": "重点地区来沪人员未核验",
        "en": "key-region arrivals unchecked",
    },
    "registers.lag.unreported": {"zh": "今日未报", "en": "no report today"},
    "registers.lag.overdue": {"zh": "消杀逾期", "en": "disinfection overdue"},
    "registers.col.credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "registers.col.name": {"zh": "名称", "en": "Name"},
    "registers.col.subdistrict": {"zh": "街镇", "en": "Subdistrict"},
    "registers.col.industry": {"zh": "行业", "en": "Industry"},
    "registers.col.state": {"zh": "状态", "en": "State"},
    "registers.col.planned_reopen_date": {"zh": "计划复工日", "en": "Planned reopening"},
    "registers.col.overdue_days": {"zh": "滞后天数", "en": "Days behind"},
    "registers.col.planned_headcount": {"zh": "计划返岗人数", "en": "Planned staff"},
    "registers.col.returned_headcount": {"zh": "已返岗人数", "en": "Staff returned"},
    "registers.col.labour_gap": {"zh": "用工缺口", "en": "Labour gap"},
    "registers.col.capacity_pct": {"zh": "产能恢复（%）", "en": "Capacity (%)"},
    "registers.col.pending_approvals": {"zh": "待审批返岗", "en": "Awaiting approval"},
    "registers.col.checkins_today": {"zh": "今日健康打卡", "en": "Check-ins today"},
    "registers.col.address": {"zh": "地址", "en": "Address"},
    "registers.col.lag_reason": {"zh": "滞后原因", "en": "Why lagging"},
    "registers.col.licence_id": {"zh": "营业执照号", "en": "Licence"},
    "registers.col.street": {"zh": "所在街路", "en": "Street"},
    "registers.col.open_on": {"zh": "最近报告日", "en": "Last report"},
    "registers.col.staff_registered": {"zh": "从业人员登记", "en": "Staff registered"},
    "registers.col.site_id": {"zh": "工地编号", "en": "Site"},
    "registers.col.contractor": {"zh": "总包单位", "en": "Main contractor"},
    "registers.col.headcount": {"zh": "今日在岗", "en": "Headcount"},
    "registers.col.new_arrivals_today": {"zh": "今日新到", "en": "New today"},
    "registers.col.key_region_arrivals": {"zh": "重点地区来沪", "en": "Key-region arrivals"},
    "registers.col.unchecked_arrivals": {"zh": "未核验", "en": "Unchecked"},
    "registers.col.place_id": {"zh": "场所编号", "en": "Place"},
    "registers.col.place_name": {"zh": "场所名称", "en": "Place name"},
    "registers.col.place_kind": {"zh": "场所类型", "en": "Kind"},
    "registers.col.due_on": {"zh": "应消杀日", "en": "Due on"},
    "registers.col.done_at": {"zh": "完成时间", "en": "Done at"},
    # --- durations
    "unit.seconds": {"zh": "{n} 秒", "en": "{n} s"},
    "unit.minutes": {"zh": "{n} 分钟", "en": "{n} min"},
    "unit.hours": {"zh": "{n} 小时", "en": "{n} h"},
    "unit.days": {"zh": "{n} 天", "en": "{n} d"},
}


def normalize_lang(value: str | None, default: str = DEFAULT_LANG) -> str:
    """A supported language code from a query-string value (``en``, ``en-GB``, ``ZH``...)."""
    if value:
        code = value.strip().lower()[:2]
        if code in LANGS:
            return code
    return default if default in LANGS else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The message ``key`` in ``lang``; ``values`` fill its ``{placeholders}``.

    An unknown key is a programming error and raises ``KeyError`` (the tests catch it before a
    screen does); an unknown language falls back to Chinese.
    """
    entry = MESSAGES[key]
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**values) if values else text


def label(prefix: str, value: str, lang: str) -> str:
    """The name of a data value (a dataset, a status) if the catalogue has one, else the value.

    ``label("status", "failed", "zh")`` -> "失败"; an unknown status shows as it is stored.
    """
    key = f"{prefix}.{value}"
    return t(key, lang) if key in MESSAGES else value


def format_duration(seconds: float | None, lang: str) -> str:
    """A short human duration: "42 秒" / "3 min" / "5 h" / "2 d" (the largest whole unit)."""
    if seconds is None:
        return t("fresh.never", lang)
    s = max(0, int(seconds))
    if s < 60:
        return t("unit.seconds", lang, n=s)
    if s < 3600:
        return t("unit.minutes", lang, n=s // 60)
    if s < 86400:
        return t("unit.hours", lang, n=s // 3600)
    return t("unit.days", lang, n=s // 86400)


def format_local_time(
    value: dt.datetime | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M:%S"
) -> str:
    """``value`` in the district's time zone (``YYYY-MM-DD HH:MM:SS``); empty for None."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime(fmt)


def format_count(value: int | float | None) -> str:
    """Thousands separated, the same in both languages ("20,323"); a dash for unknown."""
    if value is None:
        return "—"
    return f"{round(value):,}"


# The generic suffix of a subdistrict's name: "天平路街道" is "天平路" where every row is one.
SUBDISTRICT_SUFFIX: Final = "街道"


def short_area_name(name: str | None) -> str:
    """A subdistrict's name without "街道", for narrow lists of subdistricts (towns such as
    "华泾镇" and development zones keep their names)."""
    name = name or ""
    return name.removesuffix(SUBDISTRICT_SUFFIX) or name
