"""Writes topic_headlines.csv: hand-written, hand-labelled English headlines (not from the sample).

Columns: text, topics (IPTC slugs, '|'-separated, first preferred), duplicate_group (same headline
reworded), story (same news event). Kept as Python only to avoid CSV quoting mistakes; the CSV is
the artefact tests read. Rows are split into dev (rules tuned on) and test (held out) by a hash of
the text, see tests/evaluation.py.
"""

import csv
from pathlib import Path

R = []


def h(text, topics, dup="", story=""):
    R.append((text, topics, dup, story))


# --- economy_business
h(
    "Fed holds interest rates steady, signals two cuts later this year",
    "economy_business",
    "fed_hold",
    "fed_hold",
)
h(
    "Federal Reserve keeps interest rates steady and signals two cuts this year",
    "economy_business",
    "fed_hold",
    "fed_hold",
)
h("Wall Street closes higher as tech shares rally", "economy_business", "", "wallst_up")
h("Wall Street ends higher on tech rally", "economy_business", "", "wallst_up")
h("Stocks rise as inflation cools in March", "economy_business")
h("Stocks fall as inflation heats up in March", "economy_business")
h("Oil prices jump 3% after OPEC+ output cut", "economy_business", "", "opec_cut")
h("OPEC+ agrees surprise cut to oil production", "economy_business|politics", "", "opec_cut")
h("Oil prices jump 5% after OPEC+ output cut", "economy_business")
h("Apple shares slide after weak iPhone sales in China", "economy_business|science_technology")
h("Amazon to cut 9,000 more jobs in latest round of layoffs", "economy_business|labour", "", "amazon_layoffs")
h("Amazon announces another 9,000 job cuts", "economy_business|labour", "", "amazon_layoffs")
h("Euro zone inflation falls to 2.4% in November", "economy_business")
h("UK economy shrinks unexpectedly in October", "economy_business")
h("Bank of Japan ends negative interest rates after eight years", "economy_business")
h("Tesla profit misses forecasts as price cuts bite", "economy_business|science_technology")
h("Microsoft completes $69 billion takeover of Activision", "economy_business|science_technology")
h("Chinese property giant Evergrande ordered to liquidate", "economy_business|crime_law")
h("Gold hits record high as investors seek safety", "economy_business")
h("German factory orders fall for third month", "economy_business")
h("Airline profits soar on record summer travel demand", "economy_business|lifestyle_leisure")
h("Unilever to split off ice cream business", "economy_business")
h("Bitcoin tops $70,000 for the first time", "economy_business|science_technology")
h("Retail sales rise more than expected in US", "economy_business")
h("IMF raises global growth forecast for next year", "economy_business")
h("Shipping costs surge as Red Sea attacks disrupt trade", "economy_business|conflict_war", "", "red_sea")
h("Boeing names new chief executive after safety crisis", "economy_business|disaster_accident")
h("Nvidia becomes world's most valuable company", "economy_business|science_technology")
# --- politics
h("Senate passes bill to avert government shutdown", "politics", "shutdown", "shutdown")
h("US Senate passes stopgap bill, averting government shutdown", "politics", "shutdown", "shutdown")
h("House speaker ousted in historic vote", "politics")
h("Prime minister calls snap election for July", "politics", "", "snap_election")
h("Snap general election set for July 4, prime minister announces", "politics", "", "snap_election")
h("Opposition leader wins presidential runoff in Senegal", "politics")
h("Parliament approves new cabinet after months of deadlock", "politics")
h(
    "EU leaders agree 50 billion euro aid package for Ukraine",
    "politics|conflict_war|economy_business",
    "",
    "eu_ukraine_aid",
)
h(
    "EU approves €50bn Ukraine support after Hungary drops veto",
    "politics|conflict_war|economy_business",
    "",
    "eu_ukraine_aid",
)
h("President vetoes pension reform bill", "politics|labour")
h("Coalition government collapses in the Netherlands", "politics", "", "dutch_coalition")
h("Dutch coalition collapses over migration policy", "politics|society", "", "dutch_coalition")
h("Voters head to the polls in Indonesia's general election", "politics")
h("Foreign ministers meet in Brussels to discuss sanctions", "politics")
h("Governor signs abortion ban into law", "politics|health|society")
h("Biden and Xi agree to resume military communications", "politics|conflict_war")
h("Mayor resigns amid corruption investigation", "politics|crime_law")
h("Referendum on independence rejected by voters", "politics")
h("Labour leads Conservatives by 20 points in new poll", "politics")
h("Ruling party loses majority in local elections", "politics")
h("Ministers clash over budget plans ahead of vote", "politics|economy_business")
h("Supreme Court hears challenge to presidential immunity", "politics|crime_law")
h("Chancellor announces cabinet reshuffle", "politics")
h("UN General Assembly demands humanitarian ceasefire", "politics|conflict_war")
# --- conflict_war
h("Russian missile strikes hit Kyiv overnight, killing five", "conflict_war", "kyiv_strike", "kyiv_strike")
h("Five killed as Russian missiles strike Kyiv overnight", "conflict_war", "kyiv_strike", "kyiv_strike")
h("Ukraine says it downed 30 drones over southern regions", "conflict_war", "", "kyiv_strike")
h("Israeli air strikes pound southern Gaza", "conflict_war", "", "gaza_strikes")
h("Gaza health ministry says dozens killed in overnight strikes", "conflict_war|health", "", "gaza_strikes")
h("Houthi rebels attack cargo ship in the Red Sea", "conflict_war", "", "red_sea")
h("US and UK launch strikes on Houthi targets in Yemen", "conflict_war|politics", "", "red_sea")
h("Sudan's army and paramilitaries clash in Khartoum", "conflict_war")
h("Ceasefire collapses as fighting resumes in eastern Congo", "conflict_war")
h("NATO to deploy extra troops to eastern flank", "conflict_war|politics")
h("Hostages freed in exchange for prisoners", "conflict_war", "", "hostage_deal")
h("Dozens of hostages released under truce deal", "conflict_war", "", "hostage_deal")
h("Military junta seizes power in Niger", "conflict_war|politics")
h("Armed groups kill 40 villagers in Burkina Faso", "conflict_war|crime_law")
h("Russia claims capture of eastern Ukrainian town", "conflict_war")
h("Peace talks stall as shelling continues", "conflict_war|politics")
h("Drone attack sets refinery ablaze in southern Russia", "conflict_war|economy_business")
h("Pentagon announces new weapons package for Taiwan", "conflict_war|politics")
h("North Korea fires ballistic missile into sea", "conflict_war")
# --- crime_law
h("Former president found guilty on all 34 counts", "crime_law|politics")
h("Jury convicts ex-crypto boss of fraud", "crime_law|economy_business", "", "crypto_fraud")
h("Crypto founder sentenced to 25 years for fraud", "crime_law|economy_business", "", "crypto_fraud")
h("Police arrest suspect after stabbing in city centre", "crime_law")
h("Man charged with murder after body found in canal", "crime_law")
h("Court orders release of jailed journalist", "crime_law|politics")
h("Gang members jailed for drug trafficking ring", "crime_law")
h("Supreme Court strikes down affirmative action in admissions", "crime_law|education|society")
h("Prosecutors charge bank executives with money laundering", "crime_law|economy_business")
h("Teenager arrested over school shooting threat", "crime_law|education")
h("Police seize record haul of cocaine at port", "crime_law")
h("Judge blocks new immigration rule", "crime_law|politics")
h("Hacker group charged over ransomware attacks on hospitals", "crime_law|science_technology|health")
h("Appeals court upholds conviction of former police officer", "crime_law")
h("Trial opens for suspects in art heist", "crime_law|arts_culture")
h("Football club owner arrested on tax evasion charges", "crime_law|sport")
h("Cartel leader extradited to the United States", "crime_law")
h("Man sentenced to life for killing three in arson attack", "crime_law")
# --- disaster_accident
h("Earthquake of magnitude 7.8 kills thousands in Turkey and Syria", "disaster_accident", "quake", "quake")
h(
    "Thousands dead after 7.8 magnitude earthquake hits Turkey and Syria",
    "disaster_accident",
    "quake",
    "quake",
)
h("Rescuers pull survivors from rubble days after quake", "disaster_accident", "", "quake")
h("Train derailment in Greece kills 57", "disaster_accident")
h("Ferry capsizes off Indonesia, dozens missing", "disaster_accident")
h("Plane skids off runway in heavy fog, no injuries", "disaster_accident|weather")
h("Wildfire destroys hundreds of homes in Hawaii", "disaster_accident|environment", "", "maui_fire")
h("Death toll from Maui wildfire rises to 100", "disaster_accident", "", "maui_fire")
h("Bridge collapses after ship strike in Baltimore", "disaster_accident", "", "baltimore_bridge")
h("Baltimore bridge collapses after cargo ship collision", "disaster_accident", "", "baltimore_bridge")
h("Factory explosion kills 12 workers", "disaster_accident|labour")
h("Mine collapse traps 30 miners in Mexico", "disaster_accident|labour")
h("Bus crash in Peru leaves 24 dead", "disaster_accident")
h("Volcano erupts in Iceland, town evacuated", "disaster_accident|environment")
h("Floods displace thousands in Libya after dam bursts", "disaster_accident|weather")
h("Helicopter crash kills regional governor", "disaster_accident|politics")
h("Gas leak forces evacuation of apartment block", "disaster_accident")
h("Landslide buries village in Papua New Guinea", "disaster_accident")
# --- weather
h("Heatwave sends temperatures above 45C across southern Europe", "weather", "heatwave", "heatwave")
h("Southern Europe swelters as heatwave pushes temperatures past 45C", "weather", "heatwave", "heatwave")
h(
    "Storm Ciaran batters France and England with hurricane-force winds",
    "weather|disaster_accident",
    "",
    "ciaran",
)
h("Hundreds of flights cancelled as Storm Ciaran hits", "weather|economy_business", "", "ciaran")
h("Heavy snow closes roads across the Alps", "weather")
h("Typhoon makes landfall in the Philippines", "weather|disaster_accident")
h("Met Office issues amber warning for heavy rain", "weather")
h("Drought leaves Panama Canal running low", "weather|economy_business|environment")
h("Record cold grips northern China", "weather")
h("Hurricane strengthens to category 4 off Mexican coast", "weather")
h("Tornadoes tear through Midwest towns", "weather|disaster_accident")
h("Monsoon rains bring flooding to Mumbai", "weather|disaster_accident")
h("Forecasters predict wettest winter in a decade", "weather")
h("Fog disrupts flights at Heathrow", "weather")
h("Heatwave warnings issued for Texas and Arizona", "weather")
# --- environment
h("COP28 agrees to transition away from fossil fuels", "environment|politics", "cop_deal", "cop_deal")
h("Climate summit deal calls for transition away from fossil fuels", "environment|politics", "", "cop_deal")
h("Amazon deforestation falls by half under Lula", "environment|politics")
h("Scientists warn coral reefs face mass bleaching", "environment|science_technology")
h("Global temperatures hit record high for July", "environment|weather")
h("Plastic pollution treaty talks end without deal", "environment|politics")
h("Rare white rhino born in Kenyan sanctuary", "environment|human_interest")
h("EU bans sale of new petrol cars from 2035", "environment|politics|economy_business")
h("Oil spill threatens marine life off Peru", "environment|disaster_accident")
h("Glaciers in the Alps shrinking faster than ever", "environment")
h("Wolves return to Belgian forests after a century", "environment")
h("Carbon emissions from aviation rebound to pre-pandemic levels", "environment|economy_business")
h("Activists block motorway in climate protest", "environment|society")
h("Endangered orangutan population declines by half", "environment")
h("Sea level rise threatens Pacific island nations", "environment")
h("Solar power overtakes coal in European electricity mix", "environment|economy_business")
# --- health
h("WHO declares mpox a global health emergency", "health", "", "mpox")
h("Mpox outbreak declared international emergency by WHO", "health", "", "mpox")
h("New Alzheimer's drug slows cognitive decline in trial", "health|science_technology")
h("Measles cases surge across Europe", "health")
h("Hospitals overwhelmed as flu season peaks", "health")
h("Study links ultra-processed food to early death", "health|science_technology")
h("Government approves weight-loss drug for NHS use", "health|politics")
h("Cholera outbreak spreads in Zambia", "health")
h("Junior doctors begin five-day strike", "health|labour")
h("Malaria vaccine rollout begins in Cameroon", "health")
h("Cancer death rates fall by a third since 1990", "health")
h("Bird flu detected in dairy cattle in Texas", "health|environment")
h("Mental health referrals for children at record high", "health|society")
h("Drug shortages hit pharmacies across Germany", "health|economy_business")
h("Covid vaccine makers win Nobel Prize in medicine", "health|science_technology")
h("Dengue fever cases hit record in Brazil", "health")
# --- science_technology
h("OpenAI unveils new AI model that can reason", "science_technology")
h("EU agrees landmark rules on artificial intelligence", "science_technology|politics", "", "eu_ai_act")
h("European Parliament approves AI Act", "science_technology|politics", "", "eu_ai_act")
h("India's moon lander touches down near lunar south pole", "science_technology", "", "india_moon")
h("India becomes first country to land near moon's south pole", "science_technology", "", "india_moon")
h("SpaceX Starship explodes minutes after launch", "science_technology")
h("Scientists create embryo models from stem cells", "science_technology|health")
h("Google fined over search advertising monopoly", "science_technology|economy_business|crime_law")
h("Quantum computer solves problem in minutes", "science_technology")
h("Webb telescope spots oldest galaxy yet", "science_technology")
h("Apple unveils mixed-reality headset", "science_technology|economy_business")
h("Hackers steal data of millions of customers", "science_technology|crime_law")
h("Fossil of giant penguin found in New Zealand", "science_technology")
h("Researchers build robot that can fold laundry", "science_technology")
h("Chip shortage eases as new factories open", "science_technology|economy_business")
h("TikTok sues to block US ban", "science_technology|crime_law|politics")
h("Nuclear fusion experiment breaks energy record", "science_technology|environment")
# --- sport
h("Messi scores twice as Inter Miami win", "sport")
h("Real Madrid win Champions League final", "sport", "ucl_final", "ucl_final")
h("Real Madrid beat Dortmund to win Champions League", "sport", "", "ucl_final")
h("Djokovic wins record 24th Grand Slam title", "sport")
h("Verstappen clinches third Formula One world title", "sport")
h("Springboks beat All Blacks to retain Rugby World Cup", "sport")
h("England reach Euro 2024 final after late winner", "sport")
h("Liverpool sack manager after poor run", "sport")
h("Olympic champion banned for doping violation", "sport|crime_law")
h("Tour de France leader crashes out on stage 9", "sport")
h("Manchester City fined over financial rules breaches", "sport|economy_business")
h("Serena Williams announces retirement from tennis", "sport")
h("India beat Australia by six wickets in World Cup final", "sport")
h("Lakers sign free agent guard to two-year deal", "sport")
h("Marathon world record broken in Chicago", "sport")
h("Bayern Munich appoint new head coach", "sport")
h("Swimmer takes gold in 200m freestyle", "sport")
h("Golf star joins Saudi-backed LIV tour", "sport|economy_business")
h("Boxer retains heavyweight belt with knockout win", "sport")
h("Ski champion wins downhill in Kitzbuehel", "sport")
h("Arsenal beat Chelsea 5-0 to go top", "sport")
h("Arsenal beat Chelsea 2-0 to go top", "sport")
# --- labour
h("Auto workers strike at three Detroit plants", "labour|economy_business", "uaw", "uaw")
h("UAW strike hits three Detroit car plants", "labour|economy_business", "", "uaw")
h("Hollywood actors end strike after deal with studios", "labour|arts_culture")
h("Minimum wage to rise to £11.44 in April", "labour|economy_business")
h("Unemployment falls to lowest level in 50 years", "labour|economy_business")
h("Rail workers walk out in pay dispute", "labour")
h("Teachers vote to strike over pay and conditions", "labour|education")
h("Four-day week trial extended after success", "labour|lifestyle_leisure")
h("Nurses accept pay offer, ending dispute", "labour|health")
h("Airport baggage handlers announce summer strikes", "labour|lifestyle_leisure")
h("Union membership rises for first time in a decade", "labour")
h("Dockworkers end strike at East Coast ports", "labour|economy_business")
h("Millions of French workers protest pension age rise", "labour|politics")
h("Gig workers win right to holiday pay", "labour|crime_law")
# --- education
h("University tuition fees frozen for another year", "education|politics")
h("Thousands of schools close over crumbling concrete", "education")
h("Exam results: record number of top grades", "education")
h("Students protest against rising rents near campus", "education|society")
h("Harvard president resigns after plagiarism claims", "education")
h("Government unveils plan to recruit 6,500 new teachers", "education|politics")
h("Ofsted inspections paused after headteacher's death", "education")
h("Free school meals extended to all primary pupils", "education|society")
h("Universities cut courses as foreign student numbers fall", "education|economy_business")
h("Reading scores fall sharply after pandemic", "education")
h("Smartphones banned in classrooms from September", "education|science_technology")
h("School shooting leaves four dead in Georgia", "crime_law|education")
# --- arts_culture
h("Taylor Swift's Eras Tour becomes highest-grossing ever", "arts_culture|economy_business")
h("Oppenheimer sweeps the Oscars with seven awards", "arts_culture", "oscars", "oscars")
h("Oppenheimer wins best picture at the Oscars", "arts_culture", "", "oscars")
h("Stolen Van Gogh painting returned to Dutch museum", "arts_culture|crime_law")
h("British Museum sacks staff member over missing items", "arts_culture|crime_law")
h("Nobel literature prize goes to Norwegian playwright", "arts_culture")
h("Beyonce releases surprise country album", "arts_culture")
h("Louvre to move Mona Lisa to its own room", "arts_culture")
h("Eurovision final watched by 160 million", "arts_culture|lifestyle_leisure")
h("Booker Prize shortlist announced", "arts_culture")
h("Director Martin Scorsese's new film premieres at Cannes", "arts_culture")
h("Broadway show closes after only two weeks", "arts_culture")
h("Archaeologists unearth Roman mosaic under car park", "arts_culture|science_technology")
h("Rolling Stones announce new tour", "arts_culture")
h("Famous jazz pianist dies aged 89", "arts_culture|human_interest")
# --- religion
h("Pope Francis calls for ceasefire in Christmas message", "religion|conflict_war")
h("Vatican allows blessings for same-sex couples", "religion|society")
h("Millions of pilgrims gather for Hajj in Mecca", "religion")
h("Church of England apologises for historic abuse cover-up", "religion|crime_law")
h("Hindu temple inaugurated in Ayodhya", "religion|politics")
h("Ramadan begins amid soaring food prices", "religion|economy_business")
h("Archbishop resigns over handling of abuse scandal", "religion|crime_law")
h("Muslim leaders condemn mosque attack", "religion|crime_law")
h("Dalai Lama marks 88th birthday in exile", "religion|human_interest")
h("Catholic bishops meet in Rome for synod", "religion")
h("Christmas Eve mass held in Bethlehem under tight security", "religion|conflict_war")
# --- society
h("Migrant boat arrivals rise sharply in Lampedusa", "society|politics", "", "lampedusa")
h("Italy declares emergency as migrants flood Lampedusa", "society|politics", "", "lampedusa")
h("Homelessness hits record high in England", "society")
h("Japan's population falls for 13th straight year", "society")
h("Same-sex marriage legalised in Greece", "society|politics")
h("Protesters rally against housing crisis in Lisbon", "society|economy_business")
h("Survey finds loneliness rising among young adults", "society|health")
h("Government plans to cap immigration at 300,000", "society|politics")
h("Birth rate in South Korea falls to world's lowest", "society")
h("Women march for equal pay in Iceland", "society|labour")
h("Rents rise at fastest pace on record", "society|economy_business")
h("Food bank use doubles as cost of living bites", "society|economy_business")
h("Thousands march in Paris against antisemitism", "society|religion")
h("Census shows Christians now a minority in England", "society|religion")
# --- human_interest
h("Dog walks 100 miles home after getting lost", "human_interest")
h("Woman celebrates 110th birthday with family", "human_interest")
h("Lottery winner donates jackpot to children's hospital", "human_interest")
h("Twins separated at birth reunited after 60 years", "human_interest")
h("Prince William and Kate mark wedding anniversary", "human_interest")
h("Royal baby named Lilibet after the Queen", "human_interest")
h("Boy finds 3,000-year-old sword in river", "human_interest|arts_culture")
h("Man proposes to girlfriend at top of Everest", "human_interest|lifestyle_leisure")
h("Firefighters rescue kitten trapped in drainpipe", "human_interest")
h("World's oldest man dies aged 114", "human_interest")
h("King Charles shares update on cancer treatment", "human_interest|health")
# --- lifestyle_leisure
h("Michelin guide awards three stars to Paris restaurant", "lifestyle_leisure")
h("Venice introduces entry fee for day-trippers", "lifestyle_leisure|politics")
h("Record numbers book summer holidays to Spain", "lifestyle_leisure|economy_business")
h("Barbie fashion trend sweeps high streets", "lifestyle_leisure")
h("Best beaches in Europe for a family holiday", "lifestyle_leisure")
h("Cruise ship passengers stranded after engine failure", "lifestyle_leisure|disaster_accident")
h("Coffee prices push up cost of your morning latte", "lifestyle_leisure|economy_business")
h("New theme park opens in Saudi desert", "lifestyle_leisure")
h("Wine harvest starts early in Burgundy after hot summer", "lifestyle_leisure|weather")
h("Gym memberships soar in January", "lifestyle_leisure")
h("Chef's new cookbook tops bestseller list", "lifestyle_leisure|arts_culture")
h("Airbnb bans indoor security cameras", "lifestyle_leisure|science_technology")
h("Tourists flock to see northern lights in Scotland", "lifestyle_leisure|science_technology")
# --- extra mixed, prefixed and near-duplicate cases
h(
    "BREAKING: Earthquake strikes off Japan's coast, tsunami warning issued",
    "disaster_accident",
    "japan_quake",
    "japan_quake",
)
h(
    "Earthquake strikes off coast of Japan; tsunami warning issued",
    "disaster_accident",
    "japan_quake",
    "japan_quake",
)
h("LIVE: Election results as polls close in Britain", "politics", "", "uk_results")
h("UK election results: Labour heads for landslide", "politics", "", "uk_results")
h(
    "UPDATE 2-Oil climbs as Middle East tensions mount",
    "economy_business|conflict_war",
    "oil_climbs",
    "oil_climbs",
)
h("Oil climbs as tensions in Middle East mount", "economy_business|conflict_war", "oil_climbs", "oil_climbs")
h("Stocks up as jobs data beats expectations", "economy_business")
h("Stocks down as jobs data misses expectations", "economy_business")
h("Germany wins the World Cup", "sport")
h("Germany loses the World Cup final", "sport")
h("Bank raises interest rates to 5.25%", "economy_business")
h("Bank raises interest rates to 5.5%", "economy_business")
h("Zelensky says Ukraine will never give up Crimea", "conflict_war|politics", "", "crimea")
h("Ukraine will never give up Crimea, Zelensky says", "conflict_war|politics", "crimea_quote", "crimea")
h("Zelensky: Ukraine will never cede Crimea", "conflict_war|politics", "crimea_quote", "crimea")
h("Strong earthquake rattles Taiwan", "disaster_accident", "", "taiwan_quake")
h("Taiwan hit by strongest earthquake in 25 years", "disaster_accident", "", "taiwan_quake")

# fix: the first Crimea quote is the same reworded headline as the second and third
R[[r[0] for r in R].index("Zelensky says Ukraine will never give up Crimea")] = (
    "Zelensky says Ukraine will never give up Crimea",
    "conflict_war|politics",
    "crimea_quote",
    "crimea",
)

out = Path(__file__).with_name("topic_headlines.csv")
with out.open("w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["text", "topics", "duplicate_group", "story"])
    for text, topics, dup, story in R:
        # a duplicate group is always also a story
        w.writerow([text, topics, dup, story or dup])
print(len(R), "rows ->", out)
