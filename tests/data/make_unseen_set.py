"""Writes unseen_headlines.csv: written after the rules in assets/rules/ were frozen, evaluated once.

One label was corrected after that first evaluation: the three Beirut-strike headlines are all
rewordings of one headline (the first version left one out of the duplicate group).

Same columns as topic_headlines.csv. Nothing in the rules was changed after measuring this set.
"""

import csv
from pathlib import Path

R = [
    ("Pound slides after Bank of England signals rate cut", "economy_business", "", ""),
    ("Copper price hits two-year high on China demand", "economy_business", "", ""),
    ("Volkswagen to close three German plants", "economy_business|labour", "", "vw_plants"),
    ("VW plans to shut three factories in Germany", "economy_business|labour", "", "vw_plants"),
    ("Shell profits beat expectations on strong gas trading", "economy_business", "", ""),
    ("Japan's Nikkei index falls 4% in worst day since 2020", "economy_business", "", ""),
    ("Housing starts drop to lowest level since pandemic", "economy_business", "", ""),
    ("Nigeria devalues naira for second time this year", "economy_business", "", ""),
    ("Finance minister unveils tax cuts for small businesses", "economy_business|politics", "", ""),
    ("Romania holds presidential election rerun", "politics", "", "romania_vote"),
    ("Romanians vote again in re-run of presidential election", "politics", "", "romania_vote"),
    ("Parliament votes to impeach South Korean president", "politics", "", ""),
    ("Canada's prime minister announces resignation", "politics", "", ""),
    ("Opposition boycotts vote on new constitution", "politics", "", ""),
    ("Senators reach bipartisan deal on border security", "politics", "", ""),
    ("Thousands rally in Tbilisi against foreign agents law", "politics|society", "", ""),
    (
        "Israeli strike kills senior Hezbollah commander in Beirut",
        "conflict_war",
        "beirut_strike_dup",
        "beirut_strike",
    ),
    (
        "Hezbollah commander killed in Israeli strike on Beirut",
        "conflict_war",
        "beirut_strike_dup",
        "beirut_strike",
    ),
    (
        "Israeli airstrike on Beirut kills top Hezbollah commander",
        "conflict_war",
        "beirut_strike_dup",
        "beirut_strike",
    ),
    ("Rebels seize key city in eastern Congo", "conflict_war", "", ""),
    ("Ukraine launches drone attack on Moscow region", "conflict_war", "", ""),
    ("Troops withdraw from disputed border area", "conflict_war|politics", "", ""),
    ("Police officer charged with manslaughter over teen's death", "crime_law", "", ""),
    ("Billionaire arrested in Paris over messaging app crimes", "crime_law|science_technology", "", ""),
    ("Three men jailed for smuggling migrants across Channel", "crime_law|society", "", ""),
    ("Court rules ban on protest group unlawful", "crime_law|politics", "", ""),
    ("Jewellery worth millions stolen in museum raid", "crime_law|arts_culture", "", ""),
    ("Passenger jet crashes on landing in Kazakhstan", "disaster_accident", "", "kazakh_crash"),
    ("Dozens survive as plane crashes near Aktau airport", "disaster_accident", "", "kazakh_crash"),
    ("Fire at nightclub kills 59 in North Macedonia", "disaster_accident", "", ""),
    ("Avalanche kills four skiers in Swiss Alps", "disaster_accident|sport", "", ""),
    ("Cyclone Chido devastates Mayotte", "weather|disaster_accident", "", "chido"),
    ("Hundreds feared dead after Cyclone Chido hits Mayotte", "weather|disaster_accident", "", "chido"),
    ("Snowstorm brings travel chaos to northern England", "weather", "", ""),
    ("Temperatures to plunge below freezing this weekend", "weather", "", ""),
    ("Europe endures its hottest summer on record", "weather|environment", "", ""),
    ("Offshore wind farm approved despite fishing concerns", "environment|economy_business", "", ""),
    ("Scientists record fastest ice melt in Antarctica", "environment|science_technology", "", ""),
    ("Beavers released into the wild in England for the first time", "environment", "", ""),
    ("Hospital waiting lists fall for first time in a year", "health", "", ""),
    ("New blood test could detect cancer years earlier", "health|science_technology", "", ""),
    ("Polio detected in wastewater in Germany and Poland", "health", "", ""),
    ("Smoking ban for anyone born after 2009 passes vote", "health|politics", "", ""),
    ("Meta launches AI chatbot across its apps in Europe", "science_technology", "", ""),
    ("Astronauts return to Earth after nine months in space", "science_technology", "", ""),
    ("Chinese chatbot DeepSeek rattles US tech stocks", "science_technology|economy_business", "", ""),
    ("Liverpool win Premier League title", "sport", "", ""),
    ("Sinner beats Zverev to retain Australian Open crown", "sport", "", ""),
    ("Wales sack head coach after record losing run", "sport", "", ""),
    ("Cyclist wins Giro d'Italia by 10 seconds", "sport", "", ""),
    ("Postal workers announce Christmas walkout", "labour", "", ""),
    ("Jobless rate edges up to 4.2%", "labour|economy_business", "", ""),
    ("Universities warn of job cuts as funding falls", "education|labour", "", ""),
    ("Pupils in England to be taught about AI", "education|science_technology", "", ""),
    ("Notre-Dame cathedral reopens five years after fire", "religion|arts_culture", "", ""),
    ("Cardinals gather in Vatican to elect new pope", "religion", "", ""),
    ("Film director wins Palme d'Or in Cannes", "arts_culture", "", ""),
    ("Rapper's album breaks streaming record", "arts_culture", "", ""),
    ("Number of people sleeping rough rises by 20%", "society", "", ""),
    ("Grandmother, 92, completes marathon", "human_interest|sport", "", ""),
    ("Couple married for 80 years share their secret", "human_interest", "", ""),
    ("Hotel prices soar ahead of Olympics", "lifestyle_leisure|economy_business", "", ""),
    ("Ski resorts open early after heavy snowfall", "lifestyle_leisure|weather", "", ""),
]
out = Path(__file__).with_name("unseen_headlines.csv")
with out.open("w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["text", "topics", "duplicate_group", "story"])
    w.writerows(R)
print(len(R), "rows ->", out)
